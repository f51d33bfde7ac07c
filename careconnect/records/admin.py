from django.contrib import admin

from careconnect.records.models import HealthRecord


@admin.register(HealthRecord)
class HealthRecordAdmin(admin.ModelAdmin[HealthRecord]):
    """Only metadata here: the decrypted summary is on the user page, for permitted staff."""

    list_display = ("patient", "updated_at")
    readonly_fields = ("patient", "updated_at")
    exclude = ("sealed",)
