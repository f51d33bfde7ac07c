"""Admin: the catalog, interaction rules and pharmacy directory are edited here; prescriptions
show metadata only (their items are sealed PHI, read through the app with an audit)."""

from django.contrib import admin

from prescriptions.models import (
    Interaction,
    Medication,
    Pharmacy,
    PharmacySend,
    Prescription,
    RefillRequest,
)


@admin.register(Medication)
class MedicationAdmin(admin.ModelAdmin[Medication]):
    list_display = ("name", "rxnorm", "controlled", "is_active")
    list_filter = ("is_active", "controlled")
    search_fields = ("name", "slug", "search")
    readonly_fields = ("id", "search")


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin[Interaction]):
    list_display = ("a", "b", "severity", "dataset")
    list_filter = ("severity", "dataset")
    search_fields = ("a", "b", "effect")


@admin.register(Pharmacy)
class PharmacyAdmin(admin.ModelAdmin[Pharmacy]):
    list_display = ("name", "city", "channel", "is_active")
    list_filter = ("channel", "is_active", "city")
    search_fields = ("name", "address", "city")


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin[Prescription]):
    list_display = ("id", "doctor", "status", "issued_at", "expires_at")
    list_filter = ("status",)
    exclude = ("items_sealed", "overrides_sealed", "cancel_reason_sealed")
    readonly_fields = [
        f.name
        for f in Prescription._meta.fields
        if f.name not in {"items_sealed", "overrides_sealed", "cancel_reason_sealed"}
    ]


@admin.register(RefillRequest)
class RefillRequestAdmin(admin.ModelAdmin[RefillRequest]):
    list_display = ("id", "prescription", "status", "requested_at", "decided_at")
    list_filter = ("status",)
    exclude = ("decline_reason_sealed",)
    readonly_fields = [
        f.name for f in RefillRequest._meta.fields if f.name != "decline_reason_sealed"
    ]


@admin.register(PharmacySend)
class PharmacySendAdmin(admin.ModelAdmin[PharmacySend]):
    list_display = ("id", "pharmacy", "channel", "status", "created_at", "fetched_at")
    list_filter = ("status", "channel")
    readonly_fields = [f.name for f in PharmacySend._meta.fields]
