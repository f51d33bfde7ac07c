"""Consult writes: who may be in a consult and when, the waiting room, admission, leaving,
ending (with the summary card), quality samples and the doctor's sealed visit note. The
signaling consumer and the REST views call these; media (aiortc) lives in consult/media.py
and never touches the database.

Window: from `CONSULT_OPEN_MINUTES_BEFORE` before the appointment's start until
`CONSULT_CLOSE_MINUTES_AFTER` after its end. Who: the appointment's doctor, its patient,
and a family member with the `book` or `message` scope. Anyone else: 404, logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking import selectors as booking_selectors
from booking.models import Appointment, Mode
from careconnect.accounts.access import resolve_patient_access
from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import User
from careconnect.audit.services import record
from careconnect.crypto.services import open_sealed, seal
from careconnect.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from careconnect.notifications import services as notifications
from careconnect.notifications.models import Kind
from careconnect.notifications.services import app_link
from chat.models import CardState, Message
from chat.registry import ActionResult
from chat.services import display_name, ensure_conversation, post_card, update_cards
from consult.models import Consult, ConsultParticipant, QualitySample

logger = logging.getLogger(__name__)

INVITE = "consult.invite"
SUMMARY = "consult.summary"
MAX_NOTE_CHARS = 20_000


class ConsultClosedError(ConflictError):
    code = "consult_closed"
    default_message = "This consult is not open now."


class ConsultEndedError(ConflictError):
    code = "consult_ended"
    default_message = "The doctor has ended this consult."


class NotOnlineError(ConflictError):
    code = "not_online"
    default_message = "This appointment is not an online consult."


class NoCapacityError(ApplicationError):
    code = "no_capacity"
    status = 503
    default_message = "No capacity for another call right now; try again shortly."


@dataclass(frozen=True, slots=True)
class ConsultAccess:
    appointment: Appointment
    role: str  # "doctor" | "patient" | "proxy"
    acting_for: bool

    @property
    def is_doctor(self) -> bool:
        return self.role == "doctor"


def window(appointment: Appointment) -> tuple[datetime, datetime]:
    return (
        appointment.start - timedelta(minutes=settings.CONSULT_OPEN_MINUTES_BEFORE),
        appointment.end + timedelta(minutes=settings.CONSULT_CLOSE_MINUTES_AFTER),
    )


def _appointment(consult_id: UUID | str) -> Appointment:
    try:
        return Appointment.objects.select_related("doctor__user", "doctor__center", "patient").get(
            id=consult_id
        )
    except (Appointment.DoesNotExist, ValueError) as exc:
        raise NotFoundError("Consult not found.") from exc


def _refused(actor: User | None, consult_id: object, why: str) -> None:
    logger.warning("consult %s refused to user %s: %s", consult_id, getattr(actor, "id", None), why)


def consult_access(
    *, actor: User | None, consult_id: UUID | str, check_window: bool = True
) -> ConsultAccess:
    """Who `actor` is in this consult, or an error: 404 for anyone not in it (a stranger, a
    family member without `book`/`message`), 409 outside the window or for a consult that
    is not online or not confirmed."""
    if actor is None or not actor.is_authenticated:
        _refused(actor, consult_id, "anonymous")
        raise NotFoundError("Consult not found.")
    appointment = _appointment(consult_id)
    if appointment.doctor.user_id == actor.id:
        access = ConsultAccess(appointment, "doctor", False)
    elif appointment.patient_id == actor.id:
        access = ConsultAccess(appointment, "patient", False)
    else:
        access = _proxy_access(actor, appointment)
    if appointment.mode != Mode.ONLINE:
        raise NotOnlineError()
    if check_window:
        opens, closes = window(appointment)
        now = timezone.now()
        live = appointment.status in (Appointment.Status.CONFIRMED, Appointment.Status.COMPLETED)
        if not live or not (opens <= now <= closes):
            _refused(actor, consult_id, "outside the window")
            if live and now < opens:
                zone = booking_selectors.center_zone(appointment.doctor.center)
                local = timezone.localtime(opens, zone)
                raise ConsultClosedError(f"This consult opens at {local:%H:%M} on {local:%d %b}.")
            raise ConsultClosedError()
    return access


def _proxy_access(actor: User, appointment: Appointment) -> ConsultAccess:
    for scope in ("book", "message"):
        try:
            access = resolve_patient_access(
                actor=actor, patient_id=appointment.patient_id, scope=scope
            )
        except ApplicationError:
            continue
        if access.acting_for:
            return ConsultAccess(appointment, "proxy", True)
    _refused(actor, appointment.id, "not a participant")
    raise NotFoundError("Consult not found.")


def _lock_consult(appointment: Appointment) -> Consult:
    """The consult row (created on first join), locked."""
    consult = Consult.objects.select_for_update().filter(appointment=appointment).first()
    if consult is None:
        try:
            with transaction.atomic():
                Consult.objects.create(appointment=appointment)
        except IntegrityError:
            pass
        consult = Consult.objects.select_for_update().get(appointment=appointment)
    return consult


@dataclass(frozen=True, slots=True)
class JoinResult:
    consult_id: UUID
    role: str
    admitted: bool  # False: in the waiting room
    waiting: list[dict[str, Any]] = field(default_factory=list)  # for the doctor


def _participant_view(p: ConsultParticipant) -> dict[str, Any]:
    return {"user": str(p.user_id), "name": display_name(p.user), "role": p.role}


@transaction.atomic
def join(*, actor: User, consult_id: UUID | str) -> JoinResult:
    """Enter the consult: the doctor is in at once; a patient or family member waits until
    admitted, except on a rejoin (a reload, a dropped network) while the call is open."""
    access = consult_access(actor=actor, consult_id=consult_id)
    consult = _lock_consult(access.appointment)
    if consult.status == Consult.Status.ENDED:
        raise ConsultEndedError()
    now = timezone.now()
    participant, _ = ConsultParticipant.objects.get_or_create(
        consult=consult, user=actor, defaults={"role": access.role}
    )
    if access.is_doctor or participant.admitted:
        participant.state, participant.admitted = ConsultParticipant.State.ADMITTED, True
        participant.admitted_at = participant.admitted_at or now
        if consult.started_at is None and not access.is_doctor:
            consult.started_at = now
    else:
        if participant.state != ConsultParticipant.State.WAITING:
            participant.joined_at = now  # back in the waiting room: "waiting since" restarts
        participant.state = ConsultParticipant.State.WAITING
    participant.left_at = None
    participant.save(update_fields=["state", "admitted", "admitted_at", "left_at", "joined_at"])
    consult.save(update_fields=["started_at"])
    record(
        actor=actor,
        action="consult.join",
        object_type="consult.consult",
        object_id=consult.pk,
        patient=access.appointment.patient,
        acting_for=access.appointment.patient if access.acting_for else None,
        detail={"role": access.role, "admitted": participant.admitted},
    )
    if access.is_doctor:
        _ensure_invite(access.appointment, actor)
    else:
        _update_invite(access.appointment, waiting=not participant.admitted)
    waiting = (
        [
            _participant_view(p)
            for p in consult.participants.select_related("user").filter(
                state=ConsultParticipant.State.WAITING
            )
        ]
        if access.is_doctor
        else []
    )
    return JoinResult(consult.pk, access.role, participant.admitted, waiting)


@transaction.atomic
def admit(*, actor: User, consult_id: UUID | str, user_id: UUID | str) -> ConsultParticipant:
    access = consult_access(actor=actor, consult_id=consult_id)
    if not access.is_doctor:
        raise PermissionDeniedError("Only the doctor admits people into the consult.")
    consult = _lock_consult(access.appointment)
    if consult.status == Consult.Status.ENDED:
        raise ConsultEndedError()
    participant = (
        ConsultParticipant.objects.select_for_update()
        .filter(consult=consult, user_id=user_id)
        .exclude(state=ConsultParticipant.State.LEFT)
        .first()
    )
    if participant is None:
        raise NotFoundError("That person is not waiting.")
    now = timezone.now()
    participant.state, participant.admitted = ConsultParticipant.State.ADMITTED, True
    participant.admitted_at = participant.admitted_at or now
    participant.save(update_fields=["state", "admitted", "admitted_at"])
    if consult.started_at is None:
        consult.started_at = now
        consult.save(update_fields=["started_at"])
    record(
        actor=actor,
        action="consult.admit",
        object_type="consult.consult",
        object_id=consult.pk,
        patient=access.appointment.patient,
        detail={"admitted": str(user_id)},
    )
    _update_invite(access.appointment, waiting=False)
    _notify_admitted(participant, access.appointment, actor)
    return participant


def _notify_admitted(
    participant: ConsultParticipant, appointment: Appointment, doctor: User
) -> None:
    """ "Dr X admitted you": to the admitted person (no health data), once per admission."""
    person = participant.user
    if not person.is_active:
        return
    stamp = participant.admitted_at.isoformat() if participant.admitted_at else ""
    notifications.notify(
        recipient=person,
        kind=Kind.CONSULT,
        event="consult_admitted",
        key=f"consult.admitted:{participant.consult_id}:{person.id}:{stamp}",
        title=f"Dr {doctor.full_name} admitted you",
        body=f"Dr {doctor.full_name} admitted you — your consult is starting.",
        link=app_link(f"/consult/{appointment.id}"),
        center_id=appointment.doctor.center_id,
        subject=("consult.consult", participant.consult_id),
    )


@transaction.atomic
def leave(*, actor: User, consult_id: UUID | str) -> None:
    """Leave (or drop out of) the call. Idempotent; works after the window closed too."""
    access = consult_access(actor=actor, consult_id=consult_id, check_window=False)
    consult = Consult.objects.select_for_update().filter(appointment=access.appointment).first()
    if consult is None:
        return
    participant = (
        ConsultParticipant.objects.select_for_update().filter(consult=consult, user=actor).first()
    )
    if participant is None or participant.state == ConsultParticipant.State.LEFT:
        return
    now = timezone.now()
    if participant.state == ConsultParticipant.State.ADMITTED and participant.admitted_at:
        since = max(participant.admitted_at, participant.left_at or participant.admitted_at)
        participant.seconds_in_call += max(0, int((now - since).total_seconds()))
    participant.state, participant.left_at = ConsultParticipant.State.LEFT, now
    participant.save(update_fields=["state", "left_at", "seconds_in_call"])
    if not participant.admitted:
        _update_invite(access.appointment, waiting=False)


def summary_card(consult: Consult, appointment: Appointment) -> dict[str, Any]:
    people = consult.participants.select_related("user").filter(admitted=True)
    duration = (
        int((consult.ended_at - consult.started_at).total_seconds())
        if consult.ended_at and consult.started_at
        else 0
    )
    return {
        "consult": str(consult.pk),
        "appointment": str(appointment.id),
        "started_at": consult.started_at.isoformat() if consult.started_at else None,
        "ended_at": consult.ended_at.isoformat() if consult.ended_at else None,
        "duration_seconds": duration,
        "participants": [{"user": str(p.user_id), "name": display_name(p.user)} for p in people],
        "doctor_name": f"Dr {appointment.doctor.user.full_name}",
    }


@transaction.atomic
def end_consult(*, actor: User, consult_id: UUID | str) -> Consult:
    """The doctor ends the consult: everyone leaves, the summary card is posted, and an
    appointment whose time has come is completed."""
    access = consult_access(actor=actor, consult_id=consult_id, check_window=False)
    if not access.is_doctor:
        raise PermissionDeniedError("Only the doctor ends the consult.")
    appointment = booking_selectors.lock_appointment(appointment_id=access.appointment.id)
    consult = _lock_consult(appointment)
    if consult.status == Consult.Status.ENDED:
        return consult
    now = timezone.now()
    for participant in consult.participants.select_for_update().exclude(
        state=ConsultParticipant.State.LEFT
    ):
        if participant.state == ConsultParticipant.State.ADMITTED and participant.admitted_at:
            participant.seconds_in_call += max(
                0, int((now - (participant.left_at or participant.admitted_at)).total_seconds())
            )
        participant.state, participant.left_at = ConsultParticipant.State.LEFT, now
        participant.save(update_fields=["state", "left_at", "seconds_in_call"])
    consult.status, consult.ended_at, consult.ended_by = Consult.Status.ENDED, now, actor
    consult.started_at = consult.started_at or now
    consult.save(update_fields=["status", "ended_at", "ended_by", "started_at"])
    if appointment.status == Appointment.Status.CONFIRMED and appointment.start <= now:
        appointment.status = Appointment.Status.COMPLETED
        appointment.save(update_fields=["status", "updated_at"])
        from booking.services import refresh_appointment_cards

        refresh_appointment_cards(appointment)
    record(
        actor=actor,
        action="consult.end",
        object_type="consult.consult",
        object_id=consult.pk,
        patient=appointment.patient,
    )
    conversation, _ = ensure_conversation(patient=appointment.patient, doctor=appointment.doctor)
    post_card(
        conversation=conversation,
        name=SUMMARY,
        result=ActionResult(summary_card(consult, appointment), consult, CardState.COMPLETED),
        sender=actor,
    )
    update_cards(
        target=appointment,
        state=CardState.COMPLETED,
        payload={"status": "ended", "waiting": False},
        actions=[INVITE],
    )
    return consult


# ------------------------------------------------------------------ the invite card


def invite_card(appointment: Appointment, *, waiting: bool = False) -> dict[str, Any]:
    return {
        "consult": str(appointment.id),
        "appointment": str(appointment.id),
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "doctor_name": f"Dr {appointment.doctor.user.full_name}",
        "status": "open",
        "waiting": waiting,
        "join_url": f"/consult/{appointment.id}",
    }


def _ensure_invite(appointment: Appointment, actor: User | None) -> None:
    """The doctor opened the consult: the patient's way in appears in the conversation."""
    exists = Message.objects.filter(
        action=INVITE, target_type="booking.appointment", target_id=str(appointment.id)
    ).exists()
    if not exists:
        conversation, _ = ensure_conversation(
            patient=appointment.patient, doctor=appointment.doctor
        )
        post_card(
            conversation=conversation,
            name=INVITE,
            result=ActionResult(invite_card(appointment), appointment, CardState.OPEN),
            sender=actor,
        )


def _update_invite(appointment: Appointment, *, waiting: bool) -> None:
    """The doctor sees who is waiting as a chat event: the invite card says so."""
    _ensure_invite(appointment, None)
    update_cards(target=appointment, payload={"waiting": waiting}, actions=[INVITE])


def invite_result(*, actor: User, appointment_id: UUID) -> ActionResult:
    """The doctor sends the invite card from the conversation (chat action handler)."""
    access = consult_access(actor=actor, consult_id=appointment_id, check_window=False)
    if not access.is_doctor:
        raise PermissionDeniedError("Only the doctor invites to the consult.")
    return ActionResult(invite_card(access.appointment), access.appointment, CardState.OPEN)


# ------------------------------------------------------------------ quality and notes


@dataclass(frozen=True, slots=True)
class Quality:
    bitrate_kbps: float | None
    packet_loss: float | None
    rtt_ms: float | None
    fps: float | None

    @property
    def poor(self) -> bool:
        return bool(
            (self.packet_loss is not None and self.packet_loss > settings.CONSULT_POOR_LOSS)
            or (self.rtt_ms is not None and self.rtt_ms > settings.CONSULT_POOR_RTT_MS)
        )


def record_quality(*, consult_id: UUID | str, user_id: UUID | str, quality: Quality) -> bool:
    """Store one sample of a participant's link (the media side measures it); returns
    whether it is poor (the client is then offered audio only)."""
    loss = quality.packet_loss
    QualitySample.objects.create(
        consult_id=consult_id,
        user_id=user_id,
        bitrate_kbps=quality.bitrate_kbps,
        packet_loss=None if loss is None else min(1.0, max(0.0, loss)),
        rtt_ms=quality.rtt_ms,
        fps=quality.fps,
    )
    return quality.poor


def _note_aad(consult_id: UUID) -> str:
    return f"consult.note:{consult_id}"


@transaction.atomic
def write_note(*, actor: User, consult_id: UUID | str, text: str) -> Consult:
    access = consult_access(actor=actor, consult_id=consult_id, check_window=False)
    if not access.is_doctor:
        raise NotFoundError("Consult not found.")  # the note is the doctor's alone
    consult = _lock_consult(access.appointment)
    key = ensure_data_key(access.appointment.patient)
    consult.note_sealed = seal(key, text.encode(), aad=_note_aad(consult.pk))
    consult.note_updated_at = timezone.now()
    consult.save(update_fields=["note_sealed", "note_updated_at"])
    record(
        actor=actor,
        action="consult.note.write",
        object_type="consult.consult",
        object_id=consult.pk,
        patient=access.appointment.patient,
    )
    return consult


def read_note(*, actor: User, consult_id: UUID | str) -> tuple[Consult | None, str]:
    access = consult_access(actor=actor, consult_id=consult_id, check_window=False)
    if not access.is_doctor:
        raise NotFoundError("Consult not found.")
    consult = Consult.objects.filter(appointment=access.appointment).first()
    if consult is None or not consult.note_sealed:
        return consult, ""
    patient = access.appointment.patient
    text = open_sealed(
        ensure_data_key(patient), bytes(consult.note_sealed), aad=_note_aad(consult.pk)
    )
    record(
        actor=actor,
        action="consult.note.read",
        object_type="consult.consult",
        object_id=consult.pk,
        patient=patient,
    )
    return consult, text.decode()


@dataclass(frozen=True, slots=True)
class ConsultView:
    consult_id: UUID
    role: str
    status: str  # "not_started" | "open" | "ended"
    opens_at: datetime
    closes_at: datetime
    joinable: bool
    appointment: Appointment
    waiting: list[dict[str, Any]]
    ice_servers: list[dict[str, Any]]
    started_at: datetime | None
    ended_at: datetime | None


def consult_view(*, actor: User, consult_id: UUID | str) -> ConsultView:
    """What the consult page needs before joining (REST; no window check: it says when)."""
    access = consult_access(actor=actor, consult_id=consult_id, check_window=False)
    appointment = access.appointment
    consult = Consult.objects.filter(appointment=appointment).first()
    opens, closes = window(appointment)
    now = timezone.now()
    ended = consult is not None and consult.status == Consult.Status.ENDED
    live = appointment.status in (Appointment.Status.CONFIRMED, Appointment.Status.COMPLETED)
    waiting = (
        [
            _participant_view(p)
            for p in consult.participants.select_related("user").filter(
                state=ConsultParticipant.State.WAITING
            )
        ]
        if consult is not None and access.is_doctor
        else []
    )
    return ConsultView(
        consult_id=appointment.id,
        role=access.role,
        status="ended" if ended else ("open" if consult is not None else "not_started"),
        opens_at=opens,
        closes_at=closes,
        joinable=live and not ended and opens <= now <= closes,
        appointment=appointment,
        waiting=waiting,
        ice_servers=list(settings.CONSULT_ICE_SERVERS),
        started_at=consult.started_at if consult else None,
        ended_at=consult.ended_at if consult else None,
    )


def waiting_for(*, actor: User) -> list[dict[str, Any]]:
    """The doctor's week view: who is in a waiting room of theirs right now."""
    now = timezone.now()
    rows = (
        ConsultParticipant.objects.filter(
            state=ConsultParticipant.State.WAITING,
            consult__status=Consult.Status.OPEN,
            consult__appointment__doctor__user=actor,
            # Only consults open now: someone left "waiting" by a server that died does not
            # wait for ever.
            consult__appointment__start__lte=now
            + timedelta(minutes=settings.CONSULT_OPEN_MINUTES_BEFORE),
            consult__appointment__end__gte=now
            - timedelta(minutes=settings.CONSULT_CLOSE_MINUTES_AFTER),
        )
        .select_related("user", "consult__appointment")
        .order_by("joined_at")
    )
    return [
        {
            "consult": p.consult_id,
            "appointment": p.consult_id,
            "user": p.user_id,
            "name": display_name(p.user),
            "since": p.joined_at,
        }
        for p in rows
    ]
