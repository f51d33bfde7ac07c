"""Booking writes: schedules and their slots, booking, rescheduling, cancelling, holds,
the waitlist and reviews. Each public function is one transaction and one audit record.

Exclusivity is the database's: `Appointment` rows race on the partial unique index (and on
PostgreSQL the exclusion constraint); the loser's IntegrityError becomes 409 `slot_taken`.
The slot row lock taken first only orders holders of the same slot (so a hold is honoured),
it is not what prevents double-booking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from booking import selectors
from booking.models import (
    Appointment,
    AvailabilityRule,
    BookingPolicy,
    Hold,
    Mode,
    Review,
    ScheduleException,
    Slot,
    SlotMode,
    WaitlistEntry,
    slot_offers,
)
from booking.payments import services as payments
from booking.tasks import release_lapsed_hold_task
from careconnect.accounts.access import PatientAccess, resolve_patient_access, user_roles
from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import CareRelationship, DoctorProfile, Role, User
from careconnect.accounts.services import register_patient_by_staff, require_center_admin
from careconnect.audit.services import record
from careconnect.crypto.services import open_sealed, seal
from careconnect.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from careconnect.notifications import services as notifications
from careconnect.notifications.models import Channel, Kind
from careconnect.notifications.services import app_link
from chat import selectors as chat_selectors
from chat.models import CardState, Message
from chat.registry import ActionResult
from chat.services import ensure_conversation, post_card, update_card, update_cards

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = (
    Appointment.Status.REQUESTED,
    Appointment.Status.AWAITING_PAYMENT,
    Appointment.Status.CONFIRMED,
)
PREVIEW_LIMIT = 200


class SlotTakenError(ConflictError):
    code = "slot_taken"
    default_message = "Someone else just took that time. Please choose another."


class SlotNotBookableError(InvalidInputError):
    code = "slot_not_bookable"
    default_message = (
        "That time can't be booked (it is past, outside the booking window, or no longer offered)."
    )


class ModeNotOfferedError(InvalidInputError):
    code = "mode_not_offered"
    default_message = "That time is not offered for this kind of consult."


class WrongDoctorError(InvalidInputError):
    code = "wrong_doctor"
    default_message = "That time belongs to another doctor."


class WrongStateError(ConflictError):
    code = "wrong_state"
    default_message = "The appointment can't do that in its current state."


class AlreadyCancelledError(ConflictError):
    code = "already_cancelled"
    default_message = "The appointment is already cancelled."


class RuleOverlapError(ConflictError):
    code = "rule_overlap"
    default_message = "This rule overlaps another availability rule of the doctor."


class NotCompletedError(ConflictError):
    code = "not_completed"
    default_message = "You can review a doctor after a completed appointment with them."


class AlreadyReviewedError(ConflictError):
    code = "already_reviewed"
    default_message = "You have already reviewed this doctor."


class AlreadyWaitingError(ConflictError):
    code = "already_waiting"
    default_message = "You are already on this doctor's waitlist."


class NotYetStartedError(ConflictError):
    code = "not_started"
    default_message = "The appointment has not started yet."


# ------------------------------------------------------------------ chat cards


def appointment_card(appointment: Appointment) -> dict[str, Any]:
    """What a chat card shows of an appointment: ids and display fields, no reason."""
    return {
        "appointment": str(appointment.id),
        "doctor": str(appointment.doctor_id),
        "doctor_name": f"Dr {appointment.doctor.user.full_name}",
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "mode": appointment.mode,
        "status": appointment.status,
        "consult": str(appointment.consult) if appointment.consult else None,
    }


def announce_booking(appointment: Appointment, actor: User) -> None:
    """A booking made outside chat shows up as a card in the patient-doctor conversation
    (opened on the first booking). Call inside the booking's transaction."""
    conversation, _ = ensure_conversation(patient=appointment.patient, doctor=appointment.doctor)
    post_card(
        conversation=conversation,
        name="booking.book_appointment",
        result=ActionResult(appointment_card(appointment), appointment, CardState.COMPLETED),
        sender=actor,
    )


def refresh_appointment_cards(appointment: Appointment) -> None:
    """The appointment changed anywhere (REST, a card, staff): update its cards everywhere."""
    state = (
        CardState.CANCELLED
        if appointment.status == Appointment.Status.CANCELLED
        else CardState.COMPLETED
    )
    update_cards(target=appointment, state=state, payload=appointment_card(appointment))


# ------------------------------------------------------------------ helpers


# ------------------------------------------------------------------ notices (no health data)


def _notify_appointment(
    appointment: Appointment,
    *,
    event: str,
    key: str,
    title: str,
    sentence: str,
    people: list[User] | None = None,
    channels: set[str] | None = None,
) -> None:
    """Tell the patient and the family members who book for them (or `people`) that their
    appointment changed: date, time, doctor and place in each person's zone, never the
    reason. `sentence` completes "Your appointment with Dr X (place) ..." and may use
    `{when}`. Call inside the change's transaction."""
    from booking.reminders import recipients, when_text

    doctor = f"Dr {appointment.doctor.user.full_name}"
    where = "online consult" if appointment.mode == Mode.ONLINE else appointment.doctor.center.name
    for user in people if people is not None else recipients(appointment):
        when = when_text(appointment, user)
        if user.id == appointment.patient_id:
            whose = "Your appointment"
        elif user.id == appointment.doctor.user_id:
            whose = f"The appointment of {appointment.patient.full_name}"
        else:
            whose = f"The appointment of {appointment.patient.first_name}"
        notifications.notify(
            recipient=user,
            kind=Kind.BOOKING,
            event=event,
            key=key,
            title=f"{title}: {doctor}, {when}",
            body=f"{whose} with {doctor} ({where}) {sentence.format(when=when)}.",
            link=app_link("/appointments"),
            center_id=appointment.doctor.center_id,
            subject=("booking.appointment", appointment.id),
            channels=channels,
        )


def notify_confirmed(appointment: Appointment) -> None:
    """The appointment became confirmed (booked, confirmed by staff, or its fee paid)."""
    _notify_appointment(
        appointment,
        event="booking_confirmed",
        key=f"booking.confirmed:{appointment.id}",
        title="Appointment confirmed",
        sentence="on {when} is confirmed",
    )


def notify_cancelled(appointment: Appointment, *, by_patient: bool) -> None:
    """The appointment was cancelled; when the patient's side cancelled, the doctor gets an
    in-app notice too."""
    key = f"booking.cancelled:{appointment.id}"
    _notify_appointment(
        appointment,
        event="booking_cancelled",
        key=key,
        title="Appointment cancelled",
        sentence="on {when} is cancelled",
    )
    doctor = appointment.doctor.user
    if by_patient and doctor.is_active:
        _notify_appointment(
            appointment,
            event="booking_cancelled",
            key=key,
            title="Appointment cancelled",
            sentence="on {when} was cancelled by the patient",
            people=[doctor],
            channels={Channel.IN_APP},
        )


def _reason_aad(appointment_id: UUID) -> str:
    return f"booking.appointment.reason:{appointment_id}"


def seal_reason(*, patient: User, appointment_id: UUID, reason: str) -> bytes | None:
    if not reason:
        return None
    return seal(ensure_data_key(patient), reason.encode(), aad=_reason_aad(appointment_id))


def open_reason(appointment: Appointment) -> str:
    if not appointment.reason_sealed:
        return ""
    key = ensure_data_key(appointment.patient)
    return open_sealed(
        key, bytes(appointment.reason_sealed), aad=_reason_aad(appointment.id)
    ).decode()


def _require_schedule_manager(actor: User, doctor: DoctorProfile) -> None:
    if not selectors.may_manage_schedule(actor, doctor):
        if selectors.is_center_staff(actor, doctor.center_id):
            raise PermissionDeniedError("Only the doctor or a center admin can change this.")
        raise NotFoundError()


# ------------------------------------------------------------------ slot generation


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    start: datetime
    end: datetime
    mode: str
    opens_at: datetime
    closes_at: datetime
    rule_id: UUID | None = None
    exception_id: UUID | None = None


def _local(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The instant of a wall-clock time in `zone`, or None when that wall time does not exist
    (it falls in a spring-forward gap). Ambiguous times (autumn) take their first occurrence."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    return aware if round_trip == naive else None


def _rule_slots(
    rule: AvailabilityRule, zone: ZoneInfo, first: date, last: date
) -> list[PlannedSlot]:
    """The slots a rule creates on local dates first..last (inclusive). Starts step through
    wall-clock time, so 09:00 stays 09:00 local on both sides of a daylight-saving change;
    a start that does not exist (spring-forward gap) gets no slot. Each slot lasts
    `slot_minutes` of real time: its end is not re-read from the wall clock, which next to
    a change would stretch it over the repeated hour or drop it for ending in the gap."""
    planned: list[PlannedSlot] = []
    length = timedelta(minutes=rule.slot_minutes)
    step = timedelta(minutes=rule.slot_minutes + rule.buffer_minutes)
    start_day = max(first, rule.effective_from)
    end_day = min(last, rule.effective_until) if rule.effective_until else last
    day = start_day
    while day <= end_day:
        if day.isoweekday() in rule.weekdays:
            cursor = datetime.combine(day, rule.start_time)
            close = datetime.combine(day, rule.end_time)
            free_from: datetime | None = None  # the end of the day's previous slot
            while cursor + length <= close:
                start = _local(day, cursor.time(), zone)
                utc_start = start.astimezone(ZoneInfo("UTC")) if start is not None else None
                # After a gap the next wall time can be less than a slot after the last start.
                if utc_start is not None and (free_from is None or utc_start >= free_from):
                    free_from = utc_start + length
                    planned.append(
                        PlannedSlot(
                            start=utc_start,
                            end=utc_start + length,
                            mode=rule.mode,
                            opens_at=utc_start - timedelta(days=rule.booking_horizon_days),
                            closes_at=utc_start - timedelta(minutes=rule.min_notice_minutes),
                            rule_id=rule.id,
                        )
                    )
                cursor += step
        day += timedelta(days=1)
    return planned


def _extra_slots(exception: ScheduleException, horizon_days: int, notice: int) -> list[PlannedSlot]:
    planned: list[PlannedSlot] = []
    length = timedelta(minutes=exception.slot_minutes)
    cursor = exception.start
    while cursor + length <= exception.end:
        planned.append(
            PlannedSlot(
                start=cursor,
                end=cursor + length,
                mode=exception.mode,
                opens_at=cursor - timedelta(days=horizon_days),
                closes_at=cursor - timedelta(minutes=notice),
                exception_id=exception.id,
            )
        )
        cursor += length
    return planned


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def plan_slots(
    *,
    doctor: DoctorProfile,
    rules: list[AvailabilityRule],
    exceptions: list[ScheduleException],
    window_start: datetime,
    window_end: datetime,
) -> list[PlannedSlot]:
    """What the doctor's schedule says should exist in [window_start, window_end): rule
    slots, plus extra hours that do not overlap them, minus time off."""
    zone = selectors.center_zone(doctor.center)
    first = window_start.astimezone(zone).date() - timedelta(days=1)
    last = window_end.astimezone(zone).date() + timedelta(days=1)
    planned: list[PlannedSlot] = []
    for rule in rules:
        planned.extend(_rule_slots(rule, zone, first, last))
    horizon = max((r.booking_horizon_days for r in rules), default=56)
    notice = min((r.min_notice_minutes for r in rules), default=120)
    time_off = [e for e in exceptions if e.kind == ScheduleException.Kind.TIME_OFF]
    for extra in (e for e in exceptions if e.kind == ScheduleException.Kind.EXTRA_HOURS):
        for candidate in _extra_slots(extra, horizon, notice):
            if not any(_overlaps(candidate.start, candidate.end, p.start, p.end) for p in planned):
                planned.append(candidate)
    planned = [
        p
        for p in planned
        if window_start <= p.start < window_end
        and not any(_overlaps(p.start, p.end, off.start, off.end) for off in time_off)
    ]
    planned.sort(key=lambda p: p.start)
    return planned


def _window(doctor: DoctorProfile, rules: list[AvailabilityRule]) -> tuple[datetime, datetime]:
    now = timezone.now()
    horizon = max((r.booking_horizon_days for r in rules), default=56)
    return now, now + timedelta(days=horizon + 1)


@dataclass
class SlotChanges:
    added: int = 0
    removed: int = 0
    conflicts: list[Appointment] = field(default_factory=list)


def _clear_of_appointments(
    doctor: DoctorProfile, planned: dict[datetime, PlannedSlot], since: datetime
) -> dict[datetime, PlannedSlot]:
    """Drop planned slots that overlap a live appointment at another start time: after a rule
    change (another slot length, a moved start) or extra hours, the booked time stays taken
    and must not be offered again under a new slot (on SQLite nothing else would stop a
    second booking of it). The appointment's own slot, at its start, is kept."""
    booked: dict[date, list[tuple[datetime, datetime]]] = {}
    for a_start, a_end in Appointment.objects.filter(
        selectors.LIVE, doctor=doctor, end__gt=since
    ).values_list("start", "end"):
        booked.setdefault(a_start.date(), []).append((a_start, a_end))

    def clashes(plan: PlannedSlot) -> bool:
        # Slots are at most 8 hours long: an overlapping appointment starts that day or the
        # day before (UTC dates).
        days = {plan.start.date() - timedelta(days=1), plan.start.date(), plan.end.date()}
        return any(
            a_start != plan.start and _overlaps(plan.start, plan.end, a_start, a_end)
            for day in days
            for a_start, a_end in booked.get(day, ())
        )

    return {start: plan for start, plan in planned.items() if not clashes(plan)}


def _withdraw_offers(slot_ids: list[UUID]) -> None:
    """Slots the schedule stops offering lose their open holds. A waitlist offer on one goes
    back to waiting (same place in line) rather than staying "offered" with nothing it can
    book; an offer that had already run out lapses as it would have anyway."""
    if not slot_ids:
        return
    now = timezone.now()
    offered = WaitlistEntry.objects.filter(
        hold__slot_id__in=slot_ids, status=WaitlistEntry.Status.OFFERED
    )
    offered.filter(hold__expires_at__lte=now).update(
        status=WaitlistEntry.Status.LAPSED, updated_at=now
    )
    offered.update(status=WaitlistEntry.Status.WAITING, hold=None, updated_at=now)
    Hold.objects.filter(slot_id__in=slot_ids, released_at__isnull=True).update(released_at=now)


def materialise_slots(*, doctor: DoctorProfile) -> SlotChanges:
    """Make the doctor's future `Slot` rows match their schedule (idempotent). Free slots the
    schedule no longer covers are deleted; booked ones stay, unpublished, and are returned as
    conflicts for rescheduling: a schedule change never silently drops an appointment.
    Call under `lock_doctor`."""
    rules = list(AvailabilityRule.objects.filter(doctor=doctor))
    window_start, window_end = _window(doctor, rules)
    exceptions = list(
        ScheduleException.objects.filter(doctor=doctor, end__gt=window_start, start__lt=window_end)
    )
    planned = {
        p.start: p
        for p in plan_slots(
            doctor=doctor,
            rules=rules,
            exceptions=exceptions,
            window_start=window_start,
            window_end=window_end,
        )
    }
    planned = _clear_of_appointments(doctor, planned, window_start)
    existing = {
        s.start: s
        for s in Slot.objects.filter(doctor=doctor, start__gte=window_start).annotate(
            ever_booked=Q(appointments__isnull=False)
        )
    }
    changes = SlotChanges()
    to_create: list[Slot] = []
    to_delete: list[UUID] = []
    for start, plan in planned.items():
        slot = existing.get(start)
        if slot is None:
            to_create.append(
                Slot(
                    doctor=doctor,
                    start=plan.start,
                    end=plan.end,
                    mode=plan.mode,
                    opens_at=plan.opens_at,
                    closes_at=plan.closes_at,
                    rule_id=plan.rule_id,
                    exception_id=plan.exception_id,
                )
            )
            continue
        wanted = (plan.end, plan.mode, plan.opens_at, plan.closes_at, True, plan.rule_id)
        have = (slot.end, slot.mode, slot.opens_at, slot.closes_at, slot.published, slot.rule_id)
        if wanted != have:
            slot.end, slot.mode, slot.opens_at, slot.closes_at = wanted[:4]
            slot.published, slot.rule_id, slot.exception_id = True, plan.rule_id, plan.exception_id
            slot.save(
                update_fields=[
                    "end",
                    "mode",
                    "opens_at",
                    "closes_at",
                    "published",
                    "rule",
                    "exception",
                ]
            )
    withdrawn: list[UUID] = []
    for start, slot in existing.items():
        if start in planned:
            continue
        if Appointment.objects.filter(slot=slot).exists():
            if slot.published:
                slot.published = False
                slot.save(update_fields=["published"])
                withdrawn.append(slot.id)
        else:
            to_delete.append(slot.id)
    _withdraw_offers([*withdrawn, *to_delete])
    if to_delete:
        Hold.objects.filter(slot_id__in=to_delete).delete()
        Slot.objects.filter(id__in=to_delete).delete()
    Slot.objects.bulk_create(to_create, batch_size=500)
    changes.added, changes.removed = len(to_create), len(to_delete)
    changes.conflicts = list(selectors.list_conflicts(doctor=doctor))
    return changes


def refresh_all_slots() -> int:
    """Daily: extend every doctor's slots to the end of their booking horizon."""
    doctor_ids = list(
        AvailabilityRule.objects.values_list("doctor_id", flat=True).distinct()
    ) + list(ScheduleException.objects.values_list("doctor_id", flat=True).distinct())
    for doctor_id in set(doctor_ids):
        with transaction.atomic():
            materialise_slots(doctor=selectors.lock_doctor(doctor_id=doctor_id))
    return len(set(doctor_ids))


# ------------------------------------------------------------------ rules and exceptions


RULE_FIELDS = (
    "weekdays",
    "start_time",
    "end_time",
    "slot_minutes",
    "buffer_minutes",
    "mode",
    "effective_from",
    "effective_until",
    "min_notice_minutes",
    "booking_horizon_days",
)


def _validate_rule(rule: AvailabilityRule) -> None:
    problems: dict[str, list[str]] = {}
    if rule.end_time <= rule.start_time:
        problems["end_time"] = ["The end time must be after the start time."]
    weekdays = rule.weekdays
    if not weekdays or any(not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays):
        problems["weekdays"] = ["Choose at least one weekday (1 = Monday … 7 = Sunday)."]
    if rule.effective_until and rule.effective_until < rule.effective_from:
        problems["effective_until"] = ["The last day must not be before the first day."]
    span = datetime.combine(date.min, rule.end_time) - datetime.combine(date.min, rule.start_time)
    if not problems and span < timedelta(minutes=rule.slot_minutes):
        problems["slot_minutes"] = ["The slot is longer than the hours of the rule."]
    if problems:
        raise InvalidInputError(None, **problems)


def _check_overlap(rule: AvailabilityRule) -> None:
    """Refuse a rule that shares a weekday, hours and dates with another rule of the doctor
    (call under `lock_doctor`, which serialises schedule writes of one doctor)."""
    others = AvailabilityRule.objects.filter(doctor_id=rule.doctor_id).exclude(id=rule.id)
    far = date.max
    for other in others:
        if not set(other.weekdays) & set(rule.weekdays):
            continue
        if not (rule.start_time < other.end_time and other.start_time < rule.end_time):
            continue
        if rule.effective_from <= (other.effective_until or far) and other.effective_from <= (
            rule.effective_until or far
        ):
            raise RuleOverlapError(
                "This rule overlaps another rule on the same weekday and hours "
                f"({other.start_time:%H:%M} to {other.end_time:%H:%M}).",
                rule=[str(other.id)],
            )


def _normalise_weekdays(data: dict[str, Any]) -> dict[str, Any]:
    if "weekdays" in data:
        data = {**data, "weekdays": sorted(set(data["weekdays"]))}
    return data


@transaction.atomic
def create_rule(
    *, actor: User, doctor_id: UUID, data: dict[str, Any]
) -> tuple[AvailabilityRule, SlotChanges]:
    doctor = selectors.lock_doctor(doctor_id=doctor_id)
    _require_schedule_manager(actor, doctor)
    rule = AvailabilityRule(doctor=doctor, created_by=actor, **_normalise_weekdays(data))
    _validate_rule(rule)
    _check_overlap(rule)
    rule.save()
    changes = materialise_slots(doctor=doctor)
    record(
        actor=actor,
        action="schedule.rule.create",
        object_type="booking.rule",
        object_id=rule.id,
        detail={"doctor": str(doctor.id), "slots_added": changes.added},
    )
    return rule, changes


def _lock_rule(rule_id: UUID) -> AvailabilityRule:
    rule = AvailabilityRule.objects.filter(id=rule_id).first()
    if rule is None:
        raise NotFoundError()
    selectors.lock_doctor(doctor_id=rule.doctor_id)
    return AvailabilityRule.objects.select_related("doctor__center").get(id=rule_id)


@transaction.atomic
def update_rule(
    *, actor: User, rule_id: UUID, data: dict[str, Any]
) -> tuple[AvailabilityRule, SlotChanges]:
    rule = _lock_rule(rule_id)
    _require_schedule_manager(actor, rule.doctor)
    for name, value in _normalise_weekdays(data).items():
        setattr(rule, name, value)
    _validate_rule(rule)
    _check_overlap(rule)
    rule.save(update_fields=[*data.keys(), "updated_at"])
    changes = materialise_slots(doctor=rule.doctor)
    record(
        actor=actor,
        action="schedule.rule.update",
        object_type="booking.rule",
        object_id=rule.id,
        detail={"fields": sorted(data), "conflicts": len(changes.conflicts)},
    )
    return rule, changes


@transaction.atomic
def delete_rule(*, actor: User, rule_id: UUID) -> SlotChanges:
    rule = _lock_rule(rule_id)
    doctor = rule.doctor
    _require_schedule_manager(actor, doctor)
    rule.delete()
    changes = materialise_slots(doctor=doctor)
    record(
        actor=actor,
        action="schedule.rule.delete",
        object_type="booking.rule",
        object_id=rule_id,
        detail={"conflicts": len(changes.conflicts)},
    )
    return changes


def preview_rule(
    *, actor: User, doctor_id: UUID, data: dict[str, Any], replaces: UUID | None = None
) -> dict[str, Any]:
    """The slots a new (or replacing) rule would create, and the booked appointments the
    change would leave uncovered. Nothing is saved."""
    doctor = selectors.get_doctor(doctor_id=doctor_id)
    _require_schedule_manager(actor, doctor)
    candidate = AvailabilityRule(
        id=replaces or UUID(int=0), doctor=doctor, **_normalise_weekdays(data)
    )
    _validate_rule(candidate)
    _check_overlap(candidate)
    others = [r for r in AvailabilityRule.objects.filter(doctor=doctor) if r.id != replaces]
    rules = [*others, candidate]
    window_start, window_end = _window(doctor, rules)
    exceptions = list(
        ScheduleException.objects.filter(doctor=doctor, end__gt=window_start, start__lt=window_end)
    )
    everything = plan_slots(
        doctor=doctor,
        rules=rules,
        exceptions=exceptions,
        window_start=window_start,
        window_end=window_end,
    )
    mine = [p for p in everything if p.rule_id == candidate.id]
    covered = {p.start for p in everything}
    conflicts = [
        a
        for a in selectors.with_related(
            Appointment.objects.filter(
                doctor=doctor, start__gte=window_start, status__in=ACTIVE_STATUSES
            )
        )
        if a.start not in covered
    ]
    return {"slots": mine[:PREVIEW_LIMIT], "count": len(mine), "conflicts": conflicts}


@transaction.atomic
def create_exception(
    *, actor: User, doctor_id: UUID, data: dict[str, Any]
) -> tuple[ScheduleException, SlotChanges]:
    doctor = selectors.lock_doctor(doctor_id=doctor_id)
    _require_schedule_manager(actor, doctor)
    if data["end"] <= data["start"]:
        raise InvalidInputError(end=["The end must be after the start."])
    exception = ScheduleException.objects.create(doctor=doctor, created_by=actor, **data)
    changes = materialise_slots(doctor=doctor)
    record(
        actor=actor,
        action="schedule.exception.create",
        object_type="booking.exception",
        object_id=exception.id,
        detail={"kind": exception.kind, "conflicts": len(changes.conflicts)},
    )
    return exception, changes


@transaction.atomic
def delete_exception(*, actor: User, exception_id: UUID) -> SlotChanges:
    exception = ScheduleException.objects.filter(id=exception_id).first()
    if exception is None:
        raise NotFoundError()
    doctor = selectors.lock_doctor(doctor_id=exception.doctor_id)
    _require_schedule_manager(actor, doctor)
    exception.delete()
    changes = materialise_slots(doctor=doctor)
    record(
        actor=actor,
        action="schedule.exception.delete",
        object_type="booking.exception",
        object_id=exception_id,
    )
    return changes


@transaction.atomic
def update_booking_policy(*, actor: User, center_id: UUID, data: dict[str, Any]) -> BookingPolicy:
    center = require_center_admin(actor, center_id)
    policy, _ = BookingPolicy.objects.select_for_update().get_or_create(center=center)
    for name, value in data.items():
        setattr(policy, name, value)
    policy.save(update_fields=[*data.keys(), "updated_at"])
    record(
        actor=actor,
        action="booking.policy.update",
        object_type="booking.policy",
        object_id=center.id,
        detail={"fields": sorted(data)},
    )
    return policy


# ------------------------------------------------------------------ holds


def _release_stale_holds(slot: Slot, now: datetime) -> None:
    """Release the slot's expired holds (under the slot lock). A lapsed waitlist offer marks
    its entry lapsed; the slot itself needs nothing: an expired hold already stopped counting."""
    stale = list(
        Hold.objects.filter(slot=slot, released_at__isnull=True, expires_at__lte=now).exclude(
            purpose=Hold.Purpose.PAYMENT  # released by its payment's expiry, which frees the slot
        )
    )
    for hold in stale:
        hold.released_at = now
        hold.save(update_fields=["released_at"])
        WaitlistEntry.objects.filter(hold=hold, status=WaitlistEntry.Status.OFFERED).update(
            status=WaitlistEntry.Status.LAPSED, updated_at=now
        )


def _claim_slot(slot: Slot, patient: User, now: datetime) -> None:
    """Under the slot lock: refuse a slot held for someone else; use the patient's own hold."""
    _release_stale_holds(slot, now)
    hold = Hold.objects.filter(slot=slot, released_at__isnull=True).first()
    if hold is None:
        return
    if hold.patient_id != patient.id:
        raise SlotTakenError()
    hold.released_at = now
    hold.save(update_fields=["released_at"])
    WaitlistEntry.objects.filter(hold=hold).update(
        status=WaitlistEntry.Status.BOOKED, updated_at=now
    )


def place_hold(*, slot_id: UUID, patient: User, purpose: str, minutes: int) -> Hold:
    """Hold a free slot for `patient` for `minutes` (call inside a transaction). The general
    mechanism behind waitlist offers and, later, payment holds."""
    slot = selectors.lock_slot(slot_id=slot_id)
    now = timezone.now()
    _release_stale_holds(slot, now)
    if Appointment.objects.filter(selectors.LIVE, slot=slot).exists():
        raise SlotTakenError()
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                slot=slot,
                patient=patient,
                purpose=purpose,
                expires_at=now + timedelta(minutes=minutes),
            )
    except IntegrityError as exc:
        raise SlotTakenError() from exc
    transaction.on_commit(
        partial(release_lapsed_hold_task.apply_async, args=(str(hold.id),), eta=hold.expires_at)
    )
    return hold


# ------------------------------------------------------------------ booking


def _check_bookable(slot: Slot, mode: str, now: datetime, *, staff: bool) -> None:
    if slot.start <= now or not slot.published:
        raise SlotNotBookableError()
    if not staff and not (slot.opens_at <= now < slot.closes_at):
        raise SlotNotBookableError(
            "That time is outside the booking window (too soon or too far ahead)."
        )
    if not slot_offers(slot.mode, mode):
        raise ModeNotOfferedError(mode=[f"This time is offered as {slot.get_mode_display()}."])


def _add_care_relationship(patient: User, doctor: DoctorProfile) -> None:
    CareRelationship.objects.get_or_create(
        patient=patient, clinician_id=doctor.user_id, defaults={"source": "appointment"}
    )


@dataclass(frozen=True, slots=True)
class BookingFor:
    """Who an appointment is for, and in what capacity the actor books it."""

    patient: User
    acting_for: bool
    staff: bool


def resolve_booking_patient(
    *,
    actor: User,
    doctor: DoctorProfile,
    patient_id: UUID | None,
    new_patient: dict[str, Any] | None,
) -> BookingFor:
    """Staff of the doctor's center book for phoned-in patients (an existing patient of the
    doctor, or a new one); everyone else books for themselves or someone they act for."""
    staff = bool(user_roles(actor) & {Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN})
    if staff and selectors.is_center_staff(actor, doctor.center_id):
        if new_patient:
            patient = register_patient_by_staff(actor=actor, **new_patient)
            return BookingFor(patient=patient, acting_for=False, staff=True)
        if patient_id is None:
            raise InvalidInputError(patient=["Choose the patient to book for."])
        known = User.objects.filter(id=patient_id, is_active=True).first()
        if (
            known is None
            or not CareRelationship.objects.filter(
                patient_id=patient_id, clinician__doctor_profile__center_id=doctor.center_id
            ).exists()
        ):
            raise NotFoundError("That patient is not known to this center.")
        return BookingFor(patient=known, acting_for=False, staff=True)
    if new_patient:
        if staff:  # staff of another center: not their doctor (404, as for their patients)
            raise NotFoundError("That doctor is not at your center.")
        raise PermissionDeniedError("Only center staff can register a new patient.")
    access: PatientAccess = resolve_patient_access(
        actor=actor, patient_id=patient_id or actor.id, scope="book"
    )
    return BookingFor(patient=access.patient, acting_for=access.acting_for, staff=False)


@transaction.atomic
def book_slot(
    *,
    actor: User,
    slot_id: UUID,
    mode: str,
    patient_id: UUID | None = None,
    new_patient: dict[str, Any] | None = None,
    reason: str = "",
    doctor_id: UUID | None = None,
    announce: bool = True,
) -> Appointment:
    """Book a slot. The slot lock orders claimants of one slot (so holds are honoured); the
    database's constraint decides who gets the slot: the loser gets 409 `slot_taken`."""
    # Fail fast for the many losers of a popular slot: one indexed read, no lock wait and no
    # write. Only a shortcut: a slot that looks free here is still decided by the constraint.
    if Appointment.objects.filter(selectors.LIVE, slot_id=slot_id).exists():
        raise SlotTakenError()
    slot = selectors.lock_slot(slot_id=slot_id)
    if doctor_id is not None and slot.doctor_id != doctor_id:
        raise WrongDoctorError()
    doctor = slot.doctor
    who = resolve_booking_patient(
        actor=actor, doctor=doctor, patient_id=patient_id, new_patient=new_patient
    )
    now = timezone.now()
    _check_bookable(slot, mode, now, staff=who.staff)
    _claim_slot(slot, who.patient, now)
    policy = selectors.policy_for(doctor.center_id)
    fee = payments.booking_fee(doctor, mode)
    if fee is not None and not who.staff:
        initial = Appointment.Status.AWAITING_PAYMENT
    elif policy.requires_confirmation and not who.staff:
        initial = Appointment.Status.REQUESTED
    else:
        initial = Appointment.Status.CONFIRMED
    appointment = Appointment(
        doctor=doctor,
        patient=who.patient,
        booked_by=actor,
        slot=slot,
        start=slot.start,
        end=slot.end,
        mode=mode,
        status=initial,
    )
    appointment.reason_sealed = seal_reason(
        patient=who.patient, appointment_id=appointment.id, reason=reason
    )
    try:
        with transaction.atomic():
            appointment.save(force_insert=True)
    except IntegrityError as exc:
        raise SlotTakenError() from exc
    _add_care_relationship(who.patient, doctor)
    record(
        actor=actor,
        action="appointment.book",
        object_type="booking.appointment",
        object_id=appointment.id,
        patient=who.patient,
        acting_for=who.patient if who.acting_for else None,
        detail={"doctor": str(doctor.id), "slot": str(slot.id), "staff": who.staff},
    )
    if announce:  # a chat action that books posts its own card instead
        announce_booking(appointment, actor)
    if appointment.status == Appointment.Status.CONFIRMED:
        notify_confirmed(appointment)
    if fee is not None:
        # A fee holds the slot while it is paid (staff bookings: a bill, no hold).
        payments.charge_for_booking(
            appointment=appointment, actor=actor, fee=fee, hold=not who.staff
        )
    return appointment


def _access_to_appointment(actor: User, appointment: Appointment, *, scope: str) -> BookingFor:
    """The patient, a proxy with `scope`, or staff of the doctor's center. 404 otherwise."""
    if selectors.is_center_staff(actor, appointment.doctor.center_id):
        return BookingFor(patient=appointment.patient, acting_for=False, staff=True)
    try:
        access = resolve_patient_access(actor=actor, patient_id=appointment.patient_id, scope=scope)
    except NotFoundError:
        raise
    return BookingFor(patient=access.patient, acting_for=access.acting_for, staff=False)


def read_appointment(*, actor: User, appointment_id: UUID) -> tuple[Appointment, str]:
    appointment = selectors.get_appointment(appointment_id=appointment_id)
    who = _access_to_appointment(actor, appointment, scope="book")
    reason = open_reason(appointment)
    if reason:
        record(
            actor=actor,
            action="appointment.read",
            object_type="booking.appointment",
            object_id=appointment.id,
            patient=appointment.patient,
            acting_for=appointment.patient if who.acting_for else None,
        )
    return appointment, reason


def read_reasons(*, actor: User, appointments: list[Appointment]) -> dict[UUID, str]:
    """Decrypt the reasons of appointments the caller may already see (a list or week view),
    auditing one read per patient whose reasons were opened."""
    reasons: dict[UUID, str] = {}
    by_patient: dict[UUID, list[str]] = {}
    for appointment in appointments:
        reason = open_reason(appointment)
        if reason:
            reasons[appointment.id] = reason
            by_patient.setdefault(appointment.patient_id, []).append(str(appointment.id))
    patients = {a.patient_id: a.patient for a in appointments}
    for patient_id, ids in by_patient.items():
        patient = patients[patient_id]
        record(
            actor=actor,
            action="appointment.list_read",
            object_type="booking.appointment",
            object_id=ids[0] if len(ids) == 1 else "",
            patient=patient,
            acting_for=patient if patient_id != actor.id and not _is_staff(actor) else None,
            detail={"appointments": ids},
        )
    return reasons


def _is_staff(actor: User) -> bool:
    return bool(user_roles(actor) & {Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN})


@transaction.atomic
def reschedule_appointment(
    *, actor: User, appointment_id: UUID, slot_id: UUID, mode: str | None = None
) -> Appointment:
    """Move an appointment to another free slot of the same doctor in one transaction: if the
    new slot cannot be secured nothing changes, so the old slot is never given up for
    nothing. The freed slot is offered to the waitlist."""
    appointment = selectors.lock_appointment(appointment_id=appointment_id)
    who = _access_to_appointment(actor, appointment, scope="book")
    if appointment.status not in ACTIVE_STATUSES:
        raise WrongStateError("Only upcoming appointments can be rescheduled.")
    now = timezone.now()
    if appointment.start <= now:
        raise WrongStateError("This appointment has already started.")
    # Lock the new and the old slot (in id order) before anything changes: a booking takes
    # the slot lock before it writes, so it waits for this move instead of deadlocking on
    # the index entry the move is rewriting.
    locked = {
        str(s.id): s
        for s in (
            selectors.lock_slot(slot_id=i) for i in sorted({str(slot_id), str(appointment.slot_id)})
        )
    }
    slot = locked[str(slot_id)]
    if slot.doctor_id != appointment.doctor_id:
        raise WrongDoctorError()
    if slot.id == appointment.slot_id:
        raise InvalidInputError(slot=["That is the current time of the appointment."])
    mode = mode or appointment.mode
    _check_bookable(slot, mode, now, staff=who.staff)
    _claim_slot(slot, appointment.patient, now)
    old_slot_id, old_start = appointment.slot_id, appointment.start
    appointment.slot, appointment.start, appointment.end, appointment.mode = (
        slot,
        slot.start,
        slot.end,
        mode,
    )
    appointment.reschedule_count += 1
    payments.move_hold(appointment=appointment, slot=slot)
    try:
        with transaction.atomic():
            appointment.save(
                update_fields=["slot", "start", "end", "mode", "reschedule_count", "updated_at"]
            )
    except IntegrityError as exc:
        raise SlotTakenError() from exc
    record(
        actor=actor,
        action="appointment.reschedule",
        object_type="booking.appointment",
        object_id=appointment.id,
        patient=appointment.patient,
        acting_for=appointment.patient if who.acting_for else None,
        detail={"from_slot": str(old_slot_id), "to_slot": str(slot.id)},
    )
    refresh_appointment_cards(appointment)
    _notify_appointment(
        appointment,
        event="rescheduled",
        key=f"booking.rescheduled:{appointment.id}:{appointment.reschedule_count}",
        title="Appointment moved",
        sentence="has moved to {when}",
    )
    if old_start > now:
        offer_freed_slot(slot_id=old_slot_id)
    return appointment


@transaction.atomic
def cancel_appointment(*, actor: User, appointment_id: UUID) -> Appointment:
    appointment = selectors.lock_appointment(appointment_id=appointment_id)
    who = _access_to_appointment(actor, appointment, scope="book")
    if appointment.status == Appointment.Status.CANCELLED:
        raise AlreadyCancelledError()
    if appointment.status not in ACTIVE_STATUSES:
        raise WrongStateError("Only upcoming appointments can be cancelled.")
    now = timezone.now()
    if appointment.start <= now:
        raise WrongStateError("This appointment has already started.")
    # The slot lock before the write, as booking takes it: a concurrent booking of this slot
    # then waits (or fails fast) instead of deadlocking on the index entry cancelled here.
    selectors.lock_slot(slot_id=appointment.slot_id)
    deadline = selectors.cancellation_deadline(appointment)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = actor
    appointment.late_cancellation = not who.staff and now > deadline
    appointment.save(
        update_fields=["status", "cancelled_at", "cancelled_by", "late_cancellation", "updated_at"]
    )
    record(
        actor=actor,
        action="appointment.cancel",
        object_type="booking.appointment",
        object_id=appointment.id,
        patient=appointment.patient,
        acting_for=appointment.patient if who.acting_for else None,
        detail={"late": appointment.late_cancellation, "staff": who.staff},
    )
    payments.settle_cancellation(appointment=appointment, actor=actor, by_staff=who.staff)
    refresh_appointment_cards(appointment)
    notify_cancelled(appointment, by_patient=not who.staff)
    offer_freed_slot(slot_id=appointment.slot_id)
    return appointment


def _staff_transition(
    *,
    actor: User,
    appointment_id: UUID,
    allowed_from: tuple[str, ...],
    to: str,
    action: str,
    after_start: bool,
) -> Appointment:
    appointment = selectors.lock_appointment(appointment_id=appointment_id)
    if not selectors.is_center_staff(actor, appointment.doctor.center_id):
        # The patient and their proxies see the appointment (403); anyone else gets 404.
        _access_to_appointment(actor, appointment, scope="book")
        raise PermissionDeniedError("Only the doctor or the center's staff can do that.")
    if appointment.status not in allowed_from:
        raise WrongStateError()
    if after_start and appointment.start > timezone.now():
        raise NotYetStartedError()
    appointment.status = to
    appointment.save(update_fields=["status", "updated_at"])
    record(
        actor=actor,
        action=action,
        object_type="booking.appointment",
        object_id=appointment.id,
        patient=appointment.patient,
    )
    refresh_appointment_cards(appointment)
    return appointment


@transaction.atomic
def confirm_appointment(*, actor: User, appointment_id: UUID) -> Appointment:
    appointment = _staff_transition(
        actor=actor,
        appointment_id=appointment_id,
        allowed_from=(Appointment.Status.REQUESTED,),
        to=Appointment.Status.CONFIRMED,
        action="appointment.confirm",
        after_start=False,
    )
    notify_confirmed(appointment)
    return appointment


@transaction.atomic
def complete_appointment(*, actor: User, appointment_id: UUID) -> Appointment:
    return _staff_transition(
        actor=actor,
        appointment_id=appointment_id,
        allowed_from=(Appointment.Status.CONFIRMED, Appointment.Status.NO_SHOW),
        to=Appointment.Status.COMPLETED,
        action="appointment.complete",
        after_start=True,
    )


@transaction.atomic
def mark_no_show(*, actor: User, appointment_id: UUID) -> Appointment:
    return _staff_transition(
        actor=actor,
        appointment_id=appointment_id,
        allowed_from=(Appointment.Status.CONFIRMED, Appointment.Status.REQUESTED),
        to=Appointment.Status.NO_SHOW,
        action="appointment.no_show",
        after_start=True,
    )


# ------------------------------------------------------------------ waitlist


@transaction.atomic
def join_waitlist(
    *,
    actor: User,
    doctor_id: UUID,
    earliest: date,
    latest: date,
    mode: str = SlotMode.BOTH,
    patient_id: UUID | None = None,
) -> WaitlistEntry:
    doctor = selectors.get_doctor(doctor_id=doctor_id)
    access = resolve_patient_access(actor=actor, patient_id=patient_id or actor.id, scope="book")
    today = timezone.now().astimezone(selectors.center_zone(doctor.center)).date()
    if latest < earliest:
        raise InvalidInputError(latest=["The last day must not be before the first day."])
    if latest < today:
        raise InvalidInputError(latest=["That range is in the past."])
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                doctor=doctor,
                patient=access.patient,
                created_by=actor,
                earliest=max(earliest, today),
                latest=latest,
                mode=mode,
            )
    except IntegrityError as exc:
        raise AlreadyWaitingError() from exc
    record(
        actor=actor,
        action="waitlist.join",
        object_type="booking.waitlist",
        object_id=entry.id,
        patient=access.patient,
        acting_for=access.patient if access.acting_for else None,
    )
    return entry


@transaction.atomic
def leave_waitlist(*, actor: User, entry_id: UUID) -> WaitlistEntry:
    found = WaitlistEntry.objects.filter(id=entry_id).select_related("hold").first()
    if found is None:
        raise NotFoundError()
    access = resolve_patient_access(actor=actor, patient_id=found.patient_id, scope="book")
    # The offered slot's lock before the entry's, in the order booking takes them (slot, then
    # hold and entry): leaving while that time is being booked waits instead of deadlocking.
    if found.hold is not None:
        selectors.lock_slot(slot_id=found.hold.slot_id)
    entry = WaitlistEntry.objects.select_for_update().get(id=entry_id)
    if entry.status not in (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED):
        raise WrongStateError("You are no longer on this waitlist.")
    now = timezone.now()
    held_slot = None
    if entry.hold_id is not None:
        Hold.objects.filter(id=entry.hold_id, released_at__isnull=True).update(released_at=now)
        held_slot = Hold.objects.get(id=entry.hold_id).slot_id
    entry.status = WaitlistEntry.Status.CANCELLED
    entry.save(update_fields=["status", "updated_at"])
    record(
        actor=actor,
        action="waitlist.leave",
        object_type="booking.waitlist",
        object_id=entry.id,
        patient=access.patient,
        acting_for=access.patient if access.acting_for else None,
    )
    if held_slot is not None:
        offer_freed_slot(slot_id=held_slot)
    return entry


def offer_freed_slot(*, slot_id: UUID) -> WaitlistEntry | None:
    """Offer a slot that just became free to the first matching person waiting: it is held
    for them for the center's `waitlist_hold_minutes` and they are told by email (no health
    data in it). Call inside the transaction that freed the slot."""
    slot = selectors.lock_slot(slot_id=slot_id)
    now = timezone.now()
    if not slot.published or not (slot.opens_at <= now < slot.closes_at):
        return None
    _release_stale_holds(slot, now)
    if Appointment.objects.filter(selectors.LIVE, slot=slot).exists():
        return None
    if Hold.objects.filter(slot=slot, released_at__isnull=True).exists():
        return None
    entry = selectors.first_waiting_for(slot=slot)
    if entry is None:
        return None
    policy = selectors.policy_for(slot.doctor.center_id)
    hold = place_hold(
        slot_id=slot.id,
        patient=entry.patient,
        purpose=Hold.Purpose.WAITLIST_OFFER,
        minutes=policy.waitlist_hold_minutes,
    )
    entry.status = WaitlistEntry.Status.OFFERED
    entry.hold = hold
    entry.save(update_fields=["status", "hold", "updated_at"])
    record(
        actor=None,
        action="waitlist.offer",
        object_type="booking.waitlist",
        object_id=entry.id,
        patient=entry.patient,
        detail={"slot": str(slot.id), "hold": str(hold.id)},
    )
    _notify_offer(entry, policy.waitlist_hold_minutes)
    return entry


def _notify_offer(entry: WaitlistEntry, minutes: int) -> None:
    """The waitlist offer (no health data): to the patient and whoever joined for them."""
    people = {entry.patient_id: entry.patient, entry.created_by_id: entry.created_by}
    for person in people.values():
        if not person.is_active:
            continue
        notifications.notify(
            recipient=person,
            kind=Kind.WAITLIST,
            event="waitlist_offer",
            key=f"waitlist.offer:{entry.id}:{entry.hold_id}",
            title="A time you were waiting for is available",
            body=(
                "A time you were waiting for has become available on CareConnect. "
                f"It is held for you for {minutes} minutes.\n\nSee it and book: "
                + app_link("/appointments")
            ),
            link=app_link("/appointments"),
            center_id=entry.doctor.center_id,
            subject=("booking.waitlist", entry.id),
        )


@transaction.atomic
def release_lapsed_hold(*, hold_id: UUID) -> WaitlistEntry | None:
    """When a waitlist offer lapses, the next person waiting gets the slot. Idempotent: a
    hold that was used, released or has not expired yet is left alone."""
    hold = Hold.objects.filter(id=hold_id).first()
    if hold is None:
        return None
    if hold.purpose == Hold.Purpose.PAYMENT:  # the unpaid booking lapses (and frees the slot)
        payments.expire_payment_hold(hold=hold)
        return None
    slot = selectors.lock_slot(slot_id=hold.slot_id)
    hold.refresh_from_db()
    now = timezone.now()
    if hold.released_at is not None or hold.expires_at > now:
        return None
    _release_stale_holds(slot, now)
    return offer_freed_slot(slot_id=slot.id)


def release_lapsed_holds() -> int:
    """Beat sweep behind the per-hold task (a task can be lost; the sweep catches it); chat
    offers whose holds lapsed are marked expired on the way."""
    lapsed = list(
        Hold.objects.filter(released_at__isnull=True, expires_at__lte=timezone.now()).values_list(
            "id", flat=True
        )[:500]
    )
    for hold_id in lapsed:
        release_lapsed_hold(hold_id=hold_id)
    expire_lapsed_offers()
    return len(lapsed)


OFFER_ACTION = "booking.offer_slots"


def expire_lapsed_offers() -> int:
    """An offer card (`booking.offer_slots`) still open after its holds lapsed becomes
    `expired`, for everyone in the conversation (`message.update`): the times it showed are no
    longer kept for the patient. One transaction per card; conversation, then card, as every
    chat write locks them."""
    now = timezone.now()
    due = [
        (message_id, conversation_id)
        for message_id, conversation_id, payload in Message.objects.filter(
            action=OFFER_ACTION, state=CardState.OPEN
        ).values_list("id", "conversation_id", "payload")[:500]
        if offer_lapsed(payload, now)
    ]
    expired = 0
    for message_id, conversation_id in due:
        with transaction.atomic():
            conversation = chat_selectors.lock_conversation(conversation_id=conversation_id)
            card = Message.objects.select_for_update().get(id=message_id)
            if card.state != CardState.OPEN:  # chosen from meanwhile
                continue
            update_card(message_id=card.id, conversation=conversation, state=CardState.EXPIRED)
            expired += 1
    return expired


def offer_lapsed(payload: Any, now: datetime) -> bool:
    expires_at = parse_datetime(str((payload or {}).get("expires_at") or ""))
    return expires_at is not None and expires_at <= now


# ------------------------------------------------------------------ reviews


@transaction.atomic
def write_review(*, actor: User, appointment_id: UUID, rating: int, text: str = "") -> Review:
    appointment = selectors.lock_appointment(appointment_id=appointment_id)
    access = resolve_patient_access(actor=actor, patient_id=appointment.patient_id, scope="book")
    if appointment.status != Appointment.Status.COMPLETED:
        raise NotCompletedError()
    if not 1 <= rating <= 5:
        raise InvalidInputError(rating=["Choose 1 to 5 stars."])
    try:
        with transaction.atomic():
            review = Review.objects.create(
                doctor=appointment.doctor,
                patient=appointment.patient,
                appointment=appointment,
                rating=rating,
                text=text,
            )
    except IntegrityError as exc:
        raise AlreadyReviewedError() from exc
    record(
        actor=actor,
        action="review.write",
        object_type="booking.review",
        object_id=review.id,
        patient=appointment.patient,
        acting_for=appointment.patient if access.acting_for else None,
    )
    return review
