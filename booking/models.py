"""Booking: availability rules and exceptions, materialised slots, holds, appointments,
waitlist and reviews.

Times are stored in UTC; rules are written in the center's local time and expanded into
`Slot` rows (one per bookable start) by `services.materialise_slots`. That exactly one
booking holds a slot is the database's job: a partial unique index on the slot of every
appointment that is not cancelled (both engines) and, on PostgreSQL, an exclusion
constraint over the doctor and time range of those appointments (migration 0002).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from careconnect.accounts.models import DoctorProfile, MedicalCenter, User


class Mode(models.TextChoices):
    """How an appointment happens."""

    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"


class SlotMode(models.TextChoices):
    """What a slot (or the rule that made it) offers."""

    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"
    BOTH = "both", "Online or in person"


def slot_offers(slot_mode: str, mode: str) -> bool:
    return slot_mode == SlotMode.BOTH or slot_mode == mode


def _default_reminder_offsets() -> list[int]:
    return [24 * 60, 2 * 60]


class BookingPolicy(models.Model):
    """A center's booking rules; a center without a row uses the defaults."""

    center = models.OneToOneField(
        MedicalCenter, on_delete=models.CASCADE, primary_key=True, related_name="booking_policy"
    )
    cancellation_notice_hours = models.PositiveIntegerField(
        default=24, help_text="Cancelling with less notice is allowed but marked late."
    )
    waitlist_hold_minutes = models.PositiveIntegerField(
        default=15, help_text="How long a freed slot is held for the person offered it."
    )
    requires_confirmation = models.BooleanField(
        default=False, help_text="New bookings wait as `requested` until staff confirm them."
    )
    payment_hold_minutes = models.PositiveIntegerField(
        default=15, help_text="How long a booking with a fee holds its slot while unpaid."
    )
    full_refund_hours = models.PositiveIntegerField(
        default=24, help_text="Cancelling at least this long before: a full refund."
    )
    late_refund_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Cancelling later: this share of the fee is refunded."
    )
    reminder_offsets_minutes = models.JSONField(
        default=_default_reminder_offsets,
        help_text="Reminders go out this many minutes before the start (default 24 h and 2 h).",
    )
    escalate_minutes_before = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=360,
        help_text="Unconfirmed this long before the start: listed for staff (None: never).",
    )
    release_unconfirmed = models.BooleanField(
        default=False,
        help_text="At escalation, cancel an unconfirmed appointment and offer the time to "
        "the waitlist.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(late_refund_percent__lte=100), name="policy_late_refund_percent_max"
            ),
            models.CheckConstraint(
                condition=Q(payment_hold_minutes__gte=1), name="policy_payment_hold_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Booking policy of {self.center}"


class AvailabilityRule(models.Model):
    """A weekly pattern of bookable time, in the center's time zone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(
        DoctorProfile, on_delete=models.CASCADE, related_name="availability_rules"
    )
    weekdays = models.JSONField(help_text="ISO weekdays: 1 = Monday … 7 = Sunday.")
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=30)
    buffer_minutes = models.PositiveSmallIntegerField(default=0)
    mode = models.CharField(max_length=10, choices=SlotMode.choices, default=SlotMode.BOTH)
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True)
    min_notice_minutes = models.PositiveIntegerField(default=120)
    booking_horizon_days = models.PositiveIntegerField(default=56)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["effective_from", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="rule_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5) & Q(slot_minutes__lte=480),
                name="rule_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=F("effective_from")),
                name="rule_effective_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"Rule {self.id} of {self.doctor_id}"


class ScheduleException(models.Model):
    """Time off (no slots in the range) or extra hours (slots added in the range)."""

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", "Time off"
        EXTRA_HOURS = "extra_hours", "Extra hours"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(
        DoctorProfile, on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    mode = models.CharField(max_length=10, choices=SlotMode.choices, default=SlotMode.BOTH)
    slot_minutes = models.PositiveSmallIntegerField(default=30)
    label = models.CharField(max_length=100, blank=True, help_text="Shown to staff only.")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="exception_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start:%Y-%m-%d %H:%M}"


class Slot(models.Model):
    """One bookable start time of a doctor. `opens_at`/`closes_at` carry the booking window
    (horizon and minimum notice) so availability is a plain index range scan. A slot whose
    rule went away while an appointment held it stays, unpublished, until that appointment
    is moved or cancelled."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(DoctorProfile, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField()
    end = models.DateTimeField()
    mode = models.CharField(max_length=10, choices=SlotMode.choices)
    opens_at = models.DateTimeField(help_text="Booking opens (start minus the horizon).")
    closes_at = models.DateTimeField(help_text="Booking closes (start minus minimum notice).")
    published = models.BooleanField(default=True)
    rule = models.ForeignKey(
        AvailabilityRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    exception = models.ForeignKey(
        ScheduleException, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["doctor", "start"], name="slot_unique_doctor_start"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["start", "doctor"], name="slot_start_doctor"),
            # The directory's "next free slot" walk (selectors.free_slots per doctor, from now
            # on): every column it reads is in the index, so it never visits the table for a
            # slot it passes over (index-only on PostgreSQL, a covering index on SQLite).
            # Key columns rather than INCLUDE, which SQLite would drop.
            models.Index(
                fields=["doctor", "start", "published", "mode", "opens_at", "closes_at", "id"],
                name="slot_doctor_walk",
            ),
        ]

    def __str__(self) -> str:
        return f"Slot {self.start:%Y-%m-%d %H:%M} of {self.doctor_id}"


class Appointment(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        CONFIRMED = "confirmed", "Confirmed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No show"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(DoctorProfile, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="appointments")
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    mode = models.CharField(max_length=10, choices=Mode.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    reason_sealed = models.BinaryField(null=True, blank=True, editable=False)
    late_cancellation = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    attendance_confirmed_at = models.DateTimeField(null=True, blank=True)
    attendance_confirmed_via = models.CharField(
        max_length=10, blank=True, help_text="How the patient confirmed: link, sms, app."
    )
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="Listed for staff as unconfirmed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=~Q(status="cancelled"),
                name="appointment_one_live_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="appointment_end_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "start"], name="appointment_doctor_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.id}"

    @property
    def consult(self) -> uuid.UUID | None:
        """DESIGN §6: an online appointment's consult session is addressed by its id."""
        return self.id if self.mode == Mode.ONLINE else None


class Hold(models.Model):
    """A slot held for one patient until `expires_at` (a waitlist offer now, a payment later).
    An expired hold simply stops counting; at most one unreleased hold per slot."""

    class Purpose(models.TextChoices):
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
        CHAT_OFFER = "chat_offer", "Offered in chat"
        PAYMENT = "payment", "Payment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="holds")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="slot_holds")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(released_at__isnull=True),
                name="hold_one_open_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold {self.id} on {self.slot_id}"


class WaitlistEntry(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a slot"
        BOOKED = "booked", "Booked"
        LAPSED = "lapsed", "Offer lapsed"
        CANCELLED = "cancelled", "Left the waitlist"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(DoctorProfile, on_delete=models.CASCADE, related_name="waitlist")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="waitlist_entries")
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    earliest = models.DateField()
    latest = models.DateField()
    mode = models.CharField(max_length=10, choices=SlotMode.choices, default=SlotMode.BOTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    hold = models.OneToOneField(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_entry"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest__gte=F("earliest")), name="waitlist_latest_after_earliest"
            ),
            models.UniqueConstraint(
                fields=["doctor", "patient"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_one_live_entry_per_doctor",
            ),
        ]

    def __str__(self) -> str:
        return f"Waitlist {self.id}"


class Review(models.Model):
    """A verified review: only after a completed appointment, one per patient and doctor."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(DoctorProfile, on_delete=models.CASCADE, related_name="reviews")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reviews_written")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="review")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["doctor", "patient"], name="review_one_per_doctor"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.id}"


# Payments live in booking/payments/ (STYLE's layout); their models load with the app's.
from booking.payments.models import (  # noqa: E402
    DevIntent,
    DevRefund,
    GatewayEvent,
    Payment,
    PaymentStatus,
    Refund,
)

__all__ = [
    "Appointment",
    "AvailabilityRule",
    "BookingPolicy",
    "DevIntent",
    "DevRefund",
    "GatewayEvent",
    "Hold",
    "Mode",
    "Payment",
    "PaymentStatus",
    "Refund",
    "Review",
    "ScheduleException",
    "Slot",
    "SlotMode",
    "WaitlistEntry",
]
