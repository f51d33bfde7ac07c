"""Consult sessions of online appointments (DESIGN §6): addressed by the appointment's id,
created on first join. Nothing of the media is stored; quality samples and a sealed visit
note are."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from booking.models import Appointment
from careconnect.accounts.models import User


class Consult(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"  # someone joined; the call is not over
        ENDED = "ended", "Ended"

    # The consult's id is its appointment's id (API.md: an appointment's `consult`).
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, primary_key=True, related_name="consult_session"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="First admission.")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note_sealed = models.BinaryField(null=True, blank=True, editable=False)
    note_updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Consult {self.pk}"


class ConsultParticipant(models.Model):
    """Who is in the consult and how far: waiting, admitted (in the call), or gone."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ADMITTED = "admitted", "Admitted"
        LEFT = "left", "Left"

    id = models.BigAutoField(primary_key=True)
    consult = models.ForeignKey(Consult, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10)  # doctor | patient | proxy
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    admitted = models.BooleanField(
        default=False, help_text="Admitted once: a rejoin skips the wait."
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    seconds_in_call = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consult", "user"], name="consult_participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.consult_id}"


class QualitySample(models.Model):
    """The server's view of one participant's link, sampled during the call."""

    id = models.BigAutoField(primary_key=True)
    consult = models.ForeignKey(Consult, on_delete=models.CASCADE, related_name="quality")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    bitrate_kbps = models.FloatField(null=True)
    packet_loss = models.FloatField(null=True, help_text="Fraction lost, 0..1.")
    rtt_ms = models.FloatField(null=True)
    fps = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["consult", "at"], name="quality_consult_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(packet_loss__isnull=True)
                | (Q(packet_loss__gte=0) & Q(packet_loss__lte=1)),
                name="quality_loss_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"Quality of {self.user_id} at {self.at}"
