"""Prescriptions (DESIGN §2): the medication catalog and interaction table (shipped data,
loaded by migration and `load_medications`), prescriptions with their items sealed with the
patient's data key, refill requests, pharmacies and sends, and medication reminders.

What a patient takes is PHI: item lists, override reasons, cancellation and decline reasons
are sealed; the rows keep only ids, states and times."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from booking.models import Appointment
from careconnect.accounts.models import DoctorProfile, User


class Medication(models.Model):
    """One catalog entry (a generic product: one or more ingredients, a class, forms and
    strengths). The id is uuid5 of the slug, the same on every machine."""

    id = models.UUIDField(primary_key=True, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    ingredients = models.JSONField(default=list, help_text="Lower-case ingredient names.")
    classes = models.JSONField(default=list, help_text="Lower-case drug class names.")
    forms = models.JSONField(default=list)
    strengths = models.JSONField(default=list)
    routes = models.JSONField(default=list)
    brand_names = models.JSONField(default=list, blank=True)
    rxnorm = models.CharField(max_length=20, blank=True, help_text="RxNorm RxCUI if known.")
    controlled = models.CharField(
        max_length=4, blank=True, help_text="US DEA schedule (II, III, IV, V) or blank."
    )
    search = models.CharField(max_length=600, editable=False, help_text="Lower-case names.")
    source = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["search"], name="medication_search")]

    def __str__(self) -> str:
        return self.name


class Interaction(models.Model):
    """A drug-drug interaction between two terms, each an ingredient ("warfarin") or a class
    ("class:nsaids"); `a` < `b` so each pair is stored once per dataset."""

    class Severity(models.TextChoices):
        CONTRAINDICATED = "contraindicated", "Contraindicated"
        MAJOR = "major", "Major"
        MODERATE = "moderate", "Moderate"
        MINOR = "minor", "Minor"

    id = models.BigAutoField(primary_key=True)
    a = models.CharField(max_length=120)
    b = models.CharField(max_length=120)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    effect = models.CharField(max_length=300)
    source = models.CharField(max_length=300)
    dataset = models.CharField(max_length=60, default="builtin")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "a", "b"], name="interaction_once"),
            models.CheckConstraint(condition=Q(a__lt=models.F("b")), name="interaction_ordered"),
        ]
        indexes = [
            models.Index(fields=["a"], name="interaction_a"),
            models.Index(fields=["b"], name="interaction_b"),
        ]

    def __str__(self) -> str:
        return f"{self.a} + {self.b} ({self.severity})"


class Pharmacy(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email with a secure download link"
        FHIR = "fhir", "FHIR endpoint (HTTPS POST of a Bundle)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    city = models.CharField(max_length=120)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40)
    email = models.EmailField(blank=True)
    fhir_endpoint = models.URLField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    opening_hours = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["city", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(channel="email") | ~Q(email=""), name="pharmacy_email_channel"
            ),
            models.CheckConstraint(
                condition=~Q(channel="fhir") | ~Q(fhir_endpoint=""), name="pharmacy_fhir_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"


class PreferredPharmacy(models.Model):
    patient = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="preferred_pharmacy"
    )
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.patient_id} -> {self.pharmacy_id}"


class Prescription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="prescriptions")
    doctor = models.ForeignKey(
        DoctorProfile, on_delete=models.PROTECT, related_name="prescriptions"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions"
    )
    refill_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    item_count = models.PositiveSmallIntegerField()
    items_sealed = models.BinaryField(editable=False)
    overrides_sealed = models.BinaryField(null=True, blank=True, editable=False)
    verification_code = models.CharField(max_length=14, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    signed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason_sealed = models.BinaryField(null=True, blank=True, editable=False)
    reminders_enabled = models.BooleanField(default=False)
    reminder_timezone = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["patient", "status", "-issued_at"], name="rx_patient_status"),
            models.Index(fields=["doctor", "-issued_at"], name="rx_doctor"),
            models.Index(fields=["status", "expires_at"], name="rx_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "completed", "cancelled", "expired"]),
                name="rx_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="rx_cancelled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")), name="rx_expiry_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(item_count__gte=1) & Q(item_count__lte=10), name="rx_item_count"
            ),
        ]

    def __str__(self) -> str:
        return f"Prescription {self.id}"


class RefillRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="refill_requests"
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason_sealed = models.BinaryField(null=True, blank=True, editable=False)
    new_prescription = models.OneToOneField(
        Prescription, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription"],
                condition=Q(status="pending"),
                name="refill_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="refill_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(new_prescription__isnull=False),
                name="refill_approved_has_rx",
            ),
        ]

    def __str__(self) -> str:
        return f"Refill {self.id} of {self.prescription_id}"


class PharmacySend(models.Model):
    """The log of a prescription sent to a pharmacy, and the delivery's outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="sends")
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.PROTECT, related_name="sends")
    sent_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Pharmacy.Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="Pharmacy opened the link.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Send {self.id} to {self.pharmacy_id}"
