"""Appointment reminders and the notices of booking events (issue: reminders and
notifications). A beat task scans every minute for reminders that are due; each becomes
notification rows, unique per (appointment, offset, recipient, channel), so a scan that runs
twice (or two beats) owes nothing twice. Texts carry the date, time, doctor and center only.

Each reminder has one-tap Confirm / Reschedule / Cancel links (signed, single purpose,
expiring at the start) and accepts SMS replies C / R / X; both are registered with
careconnect.notifications from `BookingConfig.ready()`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from booking import selectors
from booking.models import Appointment, BookingPolicy, Mode
from careconnect.accounts.models import CareGrant, User
from careconnect.audit.services import record
from careconnect.errors import ConflictError, NotFoundError
from careconnect.notifications import services as notifications
from careconnect.notifications.models import Channel, Kind, Notification, NotificationSettings

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)  # a reminder found this late still goes; later, it is skipped
LIVE = (Appointment.Status.CONFIRMED, Appointment.Status.REQUESTED)


class AlreadyConfirmedError(ConflictError):
    code = "already_confirmed"
    default_message = "This appointment is already confirmed."


# ------------------------------------------------------------------ wording


def _zone_for(user: User, appointment: Appointment) -> ZoneInfo:
    """The person's chosen zone, else the center's."""
    own = NotificationSettings.objects.filter(user=user).values_list("timezone", flat=True).first()
    return notifications.zone_of(user) if own else selectors.center_zone(appointment.doctor.center)


def when_text(appointment: Appointment, user: User) -> str:
    zone = _zone_for(user, appointment)
    local = timezone.localtime(appointment.start, zone)
    return f"{local:%a %d %b at %H:%M} ({zone.key.replace('_', ' ')} time)"


def _where(appointment: Appointment) -> str:
    if appointment.mode == Mode.ONLINE:
        return "online consult"
    return appointment.doctor.center.name


def recipients(appointment: Appointment) -> list[User]:
    """The patient (when they can be reached) and the family members who book for them."""
    people = [appointment.patient]
    if appointment.booked_by_id != appointment.patient_id:
        grant = CareGrant.objects.filter(
            patient_id=appointment.patient_id,
            grantee_id=appointment.booked_by_id,
            status=CareGrant.Status.ACTIVE,
        ).first()
        if grant is not None and "book" in grant.scopes:
            people.append(appointment.booked_by)
    return [p for p in people if p.is_active]


# ------------------------------------------------------------------ reminders


def _actions(appointment: Appointment, user: User) -> list[notifications.Action]:
    expires = appointment.start
    return [
        notifications.Action(
            label,
            notifications.make_link(
                purpose=purpose, recipient=user, subject_id=appointment.id, expires_at=expires
            ),
        )
        for label, purpose in (
            ("Confirm", "appointment.confirm"),
            ("Reschedule", "appointment.reschedule"),
            ("Cancel", "appointment.cancel"),
        )
    ]


def remind(appointment: Appointment, offset_minutes: int) -> int:
    """Owe each recipient the reminder at `offset_minutes` (inside a transaction)."""
    doctor = f"Dr {appointment.doctor.user.full_name}"
    owed = 0
    for user in recipients(appointment):
        when = when_text(appointment, user)
        for_whom = (
            "" if user.id == appointment.patient_id else f" for {appointment.patient.first_name}"
        )
        rows = notifications.notify(
            recipient=user,
            kind=Kind.APPOINTMENT_REMINDER,
            event="reminder",
            key=f"reminder:{appointment.id}:{offset_minutes}",
            title=f"Reminder: {doctor}, {when}",
            body=(
                f"Your appointment{for_whom} with {doctor} ({_where(appointment)}) is on "
                f"{when}. Reply C to confirm, R to reschedule, X to cancel."
            ),
            link=notifications.app_link("/appointments"),
            actions=_actions(appointment, user),
            center_id=appointment.doctor.center_id,
            subject=("booking.appointment", appointment.id),
        )
        owed += len(rows)
    return owed


def _offsets() -> set[int]:
    offsets = {24 * 60, 2 * 60}
    for row in BookingPolicy.objects.values_list("reminder_offsets_minutes", flat=True):
        offsets.update(int(m) for m in (row or []) if isinstance(m, int) and m > 0)
    return offsets


def send_due_reminders(now: datetime | None = None) -> int:
    """The beat task's body: every reminder whose time came within the grace window, for
    appointments booked before that time. One transaction per appointment."""
    now = now or timezone.now()
    offsets = _offsets()
    horizon = now + timedelta(minutes=max(offsets))
    candidates = (
        Appointment.objects.filter(status__in=LIVE, start__gt=now, start__lte=horizon)
        .select_related("doctor__user", "doctor__center", "patient", "booked_by")
        .order_by("start")
    )
    policies = {p.center_id: p for p in BookingPolicy.objects.all()}
    owed = 0
    for appointment in candidates:
        policy = policies.get(appointment.doctor.center_id) or BookingPolicy()
        for offset in policy.reminder_offsets_minutes or []:
            due_at = appointment.start - timedelta(minutes=int(offset))
            if not (due_at <= now < due_at + GRACE) or appointment.created_at > due_at:
                continue
            with transaction.atomic():
                owed += remind(appointment, int(offset))
    return owed


# ------------------------------------------------------------------ confirmation


@transaction.atomic
def confirm_attendance(*, actor: User, appointment_id: UUID | str, via: str) -> Appointment:
    """The patient (or a family member who books for them) confirms they will come."""
    appointment = selectors.lock_appointment(appointment_id=appointment_id)
    if actor.id != appointment.patient_id and actor not in recipients(appointment):
        from careconnect.accounts.access import resolve_patient_access

        resolve_patient_access(actor=actor, patient_id=appointment.patient_id, scope="book")
    if appointment.status not in LIVE or appointment.start <= timezone.now():
        raise ConflictError("This appointment can no longer be confirmed.")
    if appointment.attendance_confirmed_at is not None:
        raise AlreadyConfirmedError()
    appointment.attendance_confirmed_at = timezone.now()
    appointment.attendance_confirmed_via = via
    appointment.save(
        update_fields=["attendance_confirmed_at", "attendance_confirmed_via", "updated_at"]
    )
    record(
        actor=actor,
        action="appointment.attendance_confirmed",
        object_type="booking.appointment",
        object_id=appointment.id,
        patient=appointment.patient,
        acting_for=appointment.patient if actor.id != appointment.patient_id else None,
        detail={"via": via},
    )
    from booking.services import refresh_appointment_cards

    refresh_appointment_cards(appointment)
    return appointment


def _recipient_appointment(user: User, appointment_id: str) -> Appointment:
    appointment = (
        Appointment.objects.select_related("doctor__user", "doctor__center", "patient")
        .filter(id=appointment_id)
        .first()
    )
    if appointment is None or user not in recipients(appointment):
        raise NotFoundError()
    return appointment


def _link_confirm(user: User, appointment_id: str) -> dict[str, Any]:
    appointment = _recipient_appointment(user, appointment_id)
    confirm_attendance(actor=user, appointment_id=appointment.id, via="link")
    return {
        "message": f"Thank you: your appointment on {when_text(appointment, user)} is confirmed."
    }


def _link_cancel(user: User, appointment_id: str) -> dict[str, Any]:
    from booking.services import cancel_appointment

    appointment = _recipient_appointment(user, appointment_id)
    cancel_appointment(actor=user, appointment_id=appointment.id)
    return {"message": f"Your appointment on {when_text(appointment, user)} is cancelled."}


def _link_reschedule(user: User, appointment_id: str) -> dict[str, Any]:
    appointment = _recipient_appointment(user, appointment_id)
    return {
        "message": "Choose a new time in the app.",
        "redirect": f"/appointments?reschedule={appointment.id}",
    }


# ------------------------------------------------------------------ SMS replies


def _reminded_appointment(user: User) -> Appointment | None:
    """The upcoming appointment this person was last reminded of by SMS."""
    ids = Notification.objects.filter(
        recipient=user,
        channel=Channel.SMS,
        event="reminder",
        subject_type="booking.appointment",
    ).values_list("subject_id", flat=True)
    return (
        Appointment.objects.filter(id__in=list(ids[:20]), status__in=LIVE, start__gt=timezone.now())
        .select_related("doctor__user", "doctor__center", "patient")
        .order_by("start")
        .first()
    )


def _sms_confirm(user: User) -> str:
    appointment = _reminded_appointment(user)
    if appointment is None:
        return "We found no upcoming appointment to confirm. Open the CareConnect app."
    try:
        confirm_attendance(actor=user, appointment_id=appointment.id, via="sms")
    except AlreadyConfirmedError:
        return f"Your appointment on {when_text(appointment, user)} was already confirmed."
    return f"Thank you: your appointment on {when_text(appointment, user)} is confirmed."


def _sms_cancel(user: User) -> str:
    from booking.services import cancel_appointment

    appointment = _reminded_appointment(user)
    if appointment is None:
        return "We found no upcoming appointment to cancel. Open the CareConnect app."
    cancel_appointment(actor=user, appointment_id=appointment.id)
    return f"Your appointment on {when_text(appointment, user)} is cancelled."


def _sms_reschedule(user: User) -> str:
    appointment = _reminded_appointment(user)
    if appointment is None:
        return "We found no upcoming appointment. Open the CareConnect app."
    link = notifications.make_link(
        purpose="appointment.reschedule",
        recipient=user,
        subject_id=appointment.id,
        expires_at=appointment.start,
    )
    return f"Choose a new time here: {link}"


def register() -> None:
    notifications.register_link_handler("appointment.confirm", _link_confirm)
    notifications.register_link_handler("appointment.cancel", _link_cancel)
    notifications.register_link_handler("appointment.reschedule", _link_reschedule)
    notifications.register_sms_command("C", _sms_confirm)
    notifications.register_sms_command("R", _sms_reschedule)
    notifications.register_sms_command("X", _sms_cancel)


# ------------------------------------------------------------------ escalation


def escalate_unconfirmed(now: datetime | None = None) -> int:
    """Appointments still unconfirmed at the center's escalation time are listed for staff;
    where the policy says so, cancelled and their time offered to the waitlist."""
    now = now or timezone.now()
    policies = {p.center_id: p for p in BookingPolicy.objects.all()}
    default = BookingPolicy()
    rows = Appointment.objects.filter(
        status__in=LIVE,
        start__gt=now,
        start__lte=now + timedelta(days=2),
        attendance_confirmed_at__isnull=True,
        escalated_at__isnull=True,
    ).select_related("doctor__center")
    escalated = 0
    for appointment in rows:
        policy = policies.get(appointment.doctor.center_id, default)
        minutes = policy.escalate_minutes_before
        if minutes is None or appointment.start - timedelta(minutes=minutes) > now:
            continue
        if appointment.created_at > appointment.start - timedelta(minutes=minutes):
            continue  # booked inside the window: nobody had the chance to confirm
        with transaction.atomic():
            locked = selectors.lock_appointment(appointment_id=appointment.id)
            if locked.escalated_at is not None or locked.attendance_confirmed_at is not None:
                continue
            locked.escalated_at = now
            locked.save(update_fields=["escalated_at", "updated_at"])
            record(
                actor=None,
                action="appointment.escalated",
                object_type="booking.appointment",
                object_id=locked.id,
                patient=locked.patient,
                detail={"released": policy.release_unconfirmed},
            )
            if policy.release_unconfirmed:
                _release(locked, now)
            escalated += 1
    return escalated


def _release(appointment: Appointment, now: datetime) -> None:
    from booking.payments import services as payments
    from booking.services import notify_cancelled, offer_freed_slot, refresh_appointment_cards

    selectors.lock_slot(slot_id=appointment.slot_id)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
    payments.settle_cancellation(appointment=appointment, actor=appointment.patient, by_staff=True)
    refresh_appointment_cards(appointment)
    notify_cancelled(appointment, by_patient=False)
    offer_freed_slot(slot_id=appointment.slot_id)


def unconfirmed_for(*, actor: User) -> list[Appointment]:
    """Staff's list: escalated, still unconfirmed, upcoming appointments at their centers."""
    from careconnect.accounts.models import Role, RoleAssignment

    centers = RoleAssignment.objects.filter(
        user=actor, role__in=[Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN]
    ).values("center_id")
    return list(
        Appointment.objects.filter(
            Q(doctor__center_id__in=centers),
            escalated_at__isnull=False,
            attendance_confirmed_at__isnull=True,
            status__in=LIVE,
            start__gt=timezone.now(),
        )
        .select_related("doctor__user", "doctor__center", "patient", "slot")
        .order_by("start")
    )
