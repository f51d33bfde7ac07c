"""Payment records: a bill (`Payment`) owed by a patient to a center, its refunds, the
gateway events applied to it, and the dev gateway's own intents.

Money is Decimal + ISO currency in our rows; minor units only at a gateway's edge. Bill
lines a person typed may describe care (PHI), so they are stored sealed with the patient's
data key; amounts and statuses are not health data.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from careconnect.accounts.models import MedicalCenter, User


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Due"
    REQUIRES_ACTION = "requires_action", "Needs confirmation"
    FAILED = "failed", "Payment failed"  # the last attempt was declined; still payable
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    EXPIRED = "expired", "Expired"  # the booking's hold lapsed unpaid
    CANCELLED = "cancelled", "Cancelled"  # voided before payment (the booking was cancelled)


PAYABLE = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED)
SETTLED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


class Payment(models.Model):
    class Kind(models.TextChoices):
        BOOKING = "booking", "Booking fee"
        BILL = "bill", "Bill from the care team"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="payments")
    center = models.ForeignKey(MedicalCenter, on_delete=models.PROTECT, related_name="payments")
    appointment = models.ForeignKey(
        "booking.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    items_sealed = models.BinaryField(editable=False, help_text="[{description, amount}]")
    hold = models.OneToOneField(
        "booking.Hold", null=True, blank=True, on_delete=models.SET_NULL, related_name="payment"
    )
    due_by = models.DateTimeField(null=True, blank=True, help_text="The slot is held until then.")
    gateway = models.CharField(max_length=10, blank=True)
    intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    last_error = models.CharField(max_length=300, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(
        default=False, help_text="Paid after its hold lapsed (refunded automatically)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
            # One booking fee per appointment (a bill may follow it).
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(kind="booking"),
                name="payment_one_booking_fee_per_appointment",
            ),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="payment_patient")]

    def __str__(self) -> str:
        return f"Payment {self.id}"


class Refund(models.Model):
    """One refund at the gateway. `gateway_refund_id` is unique: a refund learnt twice (our
    call's answer, then its webhook) is one row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    gateway_refund_id = models.CharField(max_length=255, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.id}"


class GatewayEvent(models.Model):
    """A webhook event received: recorded once by its id (the de-duplication)."""

    id = models.BigAutoField(primary_key=True)
    gateway = models.CharField(max_length=10)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    intent_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} event {self.event_id}"


class DevIntent(models.Model):
    """The dev gateway's own book of intents (what Stripe keeps on its side)."""

    id = models.CharField(primary_key=True, max_length=40)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=30)
    amount_received = models.PositiveBigIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    metadata = models.JSONField(default=dict)
    client_secret = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id


class DevRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    intent = models.ForeignKey(DevIntent, on_delete=models.CASCADE, related_name="refunds")
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.id
