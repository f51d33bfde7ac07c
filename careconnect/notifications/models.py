"""Notifications (issue: reminders and notifications): a row per (recipient, event, channel)
with a unique de-duplication key is the record of what is owed and what was sent; Celery
workers deliver rows, a beat task finds due reminders. Texts never carry health data beyond
what the person needs to act (date, time, doctor, center)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from careconnect.accounts.models import MedicalCenter, User


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    IN_APP = "in_app", "In the app"


class Kind(models.TextChoices):
    """Kinds of event a person chooses channels for."""

    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminders"
    BOOKING = "booking", "Bookings confirmed, moved or cancelled"
    PAYMENT = "payment", "Receipts and refunds"
    WAITLIST = "waitlist", "Waitlist offers"
    CONSULT = "consult", "Consult starting"
    PRESCRIPTION = "prescription", "Prescriptions issued"
    MEDICATION_REMINDER = "medication_reminder", "Medication reminders"
    MESSAGE = "message", "New messages"
    SECURITY = "security", "Security alerts"


# What a person gets until they choose: email and in-app for everything; SMS once they
# verified a number and turned it on.
DEFAULT_CHANNELS = {Channel.EMAIL: True, Channel.IN_APP: True, Channel.SMS: False}
# Security alerts always go by email too (a person cannot be talked out of them).
ALWAYS = {Kind.SECURITY: {Channel.EMAIL}}


class NotificationSettings(models.Model):
    """A person's notification settings: quiet hours (in their time zone) and the phone
    number verified for SMS (sealed; a keyed hash finds a sender of an inbound SMS)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    timezone = models.CharField(
        max_length=64, blank=True, default="", help_text="Empty: not chosen (the center's zone)."
    )
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    sms_number_sealed = models.BinaryField(null=True, blank=True, editable=False)
    sms_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    sms_last4 = models.CharField(max_length=4, blank=True)
    sms_verified_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(quiet_start__isnull=True) & Q(quiet_end__isnull=True))
                | (Q(quiet_start__isnull=False) & Q(quiet_end__isnull=False)),
                name="notification_quiet_hours_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return f"Notification settings of {self.user_id}"


class Preference(models.Model):
    """Channels a person chose for one kind of event."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    email = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class PhoneVerification(models.Model):
    """A code sent by SMS to prove a number (the code is stored hashed)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    number_sealed = models.BinaryField(editable=False)
    code_hash = models.CharField(max_length=128)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Phone verification {self.id}"


class Notification(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DEFERRED = "deferred", "Waiting for quiet hours to end"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    event = models.CharField(max_length=50, help_text="What happened: reminder, booked, ...")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    center = models.ForeignKey(
        MedicalCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_type = models.CharField(max_length=50, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=2000, help_text="No health data: what to act on.")
    link = models.CharField(max_length=500, blank=True)
    actions = models.JSONField(default=list, help_text="One-tap links: [{label, url}].")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    not_before = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it (a stale claim is retaken)."
    )
    claim = models.CharField(
        max_length=64, blank=True, help_text="The task that took it (its redelivery retakes it)."
    )
    provider_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_status = models.CharField(max_length=30, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "channel", "-created_at"], name="notification_inbox"),
            models.Index(fields=["status", "not_before"], name="notification_due"),
            models.Index(fields=["center", "-created_at"], name="notification_center_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient_id} by {self.channel}"


class InboundSms(models.Model):
    """An SMS reply received through Twilio's webhook, applied once by its MessageSid. The
    text itself is not kept: only the command understood."""

    sid = models.CharField(max_length=64, primary_key=True)
    sender = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    command = models.CharField(max_length=10, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sid


class UsedLink(models.Model):
    """A one-tap link (signed, single purpose, expiring) that was used: never twice."""

    jti = models.CharField(max_length=64, primary_key=True)
    used_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.jti
