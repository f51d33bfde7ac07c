"""Booking reads: the directory search, free slots, appointments, schedules, the doctor's week.

"Free" is decided in SQL from the rows themselves: a published slot inside its booking window
(`opens_at <= now < closes_at`), with no appointment that is not cancelled and no unreleased
hold that has not expired (held for someone else). An expired hold simply stops counting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import ACos, Cast, Coalesce, Cos, Least, Radians, Sin
from django.utils import timezone

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
)
from careconnect.accounts.models import (
    CareRelationship,
    DoctorProfile,
    MedicalCenter,
    Role,
    RoleAssignment,
    Specialty,
    User,
)
from careconnect.errors import NotFoundError

EARTH_RADIUS_KM = 6371.0
LIVE = ~Q(status=Appointment.Status.CANCELLED)


def center_zone(center: MedicalCenter) -> ZoneInfo:
    return ZoneInfo(center.timezone or "UTC")


def policy_for(center_id: UUID) -> BookingPolicy:
    """The center's booking policy (an unsaved one with the defaults if none was set)."""
    return BookingPolicy.objects.filter(center_id=center_id).first() or BookingPolicy(
        center_id=center_id
    )


# ------------------------------------------------------------------ slots


def _live_appointment_on(slot_ref: Any) -> Exists:
    return Exists(Appointment.objects.filter(LIVE, slot=slot_ref))


def _live_hold_on(slot_ref: Any, now: datetime, *, holder: User | None = None) -> Exists:
    holds = Hold.objects.filter(slot=slot_ref, released_at__isnull=True, expires_at__gt=now)
    if holder is not None:
        holds = holds.exclude(patient=holder)
    return Exists(holds)


def free_slots(
    *, now: datetime | None = None, for_patient: User | None = None, mode: str | None = None
) -> QuerySet[Slot]:
    """Bookable slots. `for_patient`: slots held for that person count as free for them.

    `start > now` adds nothing to the meaning (`closes_at` is `start` minus a notice of zero
    or more minutes, so `closes_at > now` implies it) but it is what lets a doctor's lookup
    start its (doctor, start) index range at now rather than at the doctor's first slot
    ever: past slots stay in the table."""
    now = now or timezone.now()
    offered = Q(mode__in=[mode, SlotMode.BOTH]) if mode else Q()
    return Slot.objects.filter(
        offered,
        ~_live_appointment_on(OuterRef("pk")),
        ~_live_hold_on(OuterRef("pk"), now, holder=for_patient),
        published=True,
        start__gt=now,
        opens_at__lte=now,
        closes_at__gt=now,
    )


def list_doctor_slots(
    *,
    doctor_id: UUID,
    start: datetime,
    end: datetime,
    mode: str | None = None,
    viewer: User | None = None,
) -> list[dict[str, Any]]:
    now = timezone.now()
    slots = free_slots(now=now, for_patient=viewer, mode=mode).filter(
        doctor_id=doctor_id, start__gte=start, start__lt=end
    )
    held_for_viewer: set[UUID] = set()
    if viewer is not None:
        held_for_viewer = set(
            Hold.objects.filter(
                patient=viewer,
                released_at__isnull=True,
                expires_at__gt=now,
                slot__doctor_id=doctor_id,
            ).values_list("slot_id", flat=True)
        )
    return [
        {
            "id": slot.id,
            "start": slot.start,
            "end": slot.end,
            "mode": slot.mode,
            "held_for_you": slot.id in held_for_viewer,
        }
        for slot in slots.order_by("start")
    ]


def lock_slot(*, slot_id: UUID | str) -> Slot:
    """The slot row, locked until the end of the transaction (call inside one). Only the slot:
    locking the joined doctor and center rows too would serialise a whole center's bookings."""
    try:
        return (
            Slot.objects.select_for_update(of=("self",))
            .select_related("doctor__center")
            .get(id=slot_id)
        )
    except (Slot.DoesNotExist, ValueError) as exc:
        raise NotFoundError("That slot does not exist.") from exc


def lock_appointment(*, appointment_id: UUID | str) -> Appointment:
    try:
        return (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("doctor__center", "doctor__user", "patient")
            .get(id=appointment_id)
        )
    except (Appointment.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def lock_doctor(*, doctor_id: UUID | str) -> DoctorProfile:
    """The doctor's profile row locked: serialises schedule changes of one doctor."""
    try:
        return (
            DoctorProfile.objects.select_for_update(of=("self",))
            .select_related("center", "user")
            .get(id=doctor_id)
        )
    except (DoctorProfile.DoesNotExist, ValueError) as exc:
        raise NotFoundError("That doctor does not exist.") from exc


def get_doctor(*, doctor_id: UUID | str) -> DoctorProfile:
    try:
        return DoctorProfile.objects.select_related("center", "user").get(
            id=doctor_id, user__is_active=True
        )
    except (DoctorProfile.DoesNotExist, ValueError) as exc:
        raise NotFoundError("That doctor does not exist.") from exc


# ------------------------------------------------------------------ directory


@dataclass(frozen=True, slots=True)
class DoctorSearch:
    specialty: str | None = None
    city: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float = 25.0
    max_fee: Decimal | None = None
    mode: str | None = None
    language: str | None = None
    available_before: datetime | None = None
    name: str | None = None
    sort: str = "next_available"
    limit: int = 20
    offset: int = 0


def _distance_km(lat: float, lng: float) -> Any:
    """Great-circle distance from (lat, lng) to the doctor's center, in SQL (Django provides
    the trigonometric functions on SQLite too)."""
    center_lat = Radians(Cast("center__latitude", FloatField()))
    center_lng = Radians(Cast("center__longitude", FloatField()))
    lat_r, lng_r = math.radians(lat), math.radians(lng)
    cosine = Sin(Value(lat_r)) * Sin(center_lat) + Cos(Value(lat_r)) * Cos(center_lat) * Cos(
        center_lng - Value(lng_r)
    )
    # Rounding can push the cosine a hair past 1 for the same point; clamp into acos's domain.
    clamped = Least(cosine, Value(1.0))
    return ACos(clamped) * Value(EARTH_RADIUS_KM)


def _fee_expression(mode: str | None) -> Any:
    if mode == Mode.ONLINE:
        return F("fee_online")
    if mode == Mode.IN_PERSON:
        return F("fee_in_person")
    return Coalesce(
        Least("fee_online", "fee_in_person"),
        "fee_online",
        "fee_in_person",
        output_field=DecimalField(max_digits=10, decimal_places=2),
    )


# Titles people type before a doctor's name ("Dr Silva", "Dra. Costa"): not part of any name.
NAME_TITLES = frozenset({"dr", "dra", "doctor", "doctora", "doutor", "doutora", "prof"})


def name_words(query: str) -> list[str]:
    """The words of a name search, titles and punctuation around them dropped (at most 4)."""
    words = [w.strip(".,;:") for w in query.split()]
    return [w for w in words if w and w.lower() not in NAME_TITLES][:4]


# What a DoctorCard shows: the page query loads these columns only (a card needs neither the
# bio nor anything of the user but the name; tests/booking/test_search_queries.py would see
# a field the serializer reads beyond these as one extra query per card).
CARD_FIELDS = (
    "id",
    "user_id",
    "center_id",
    "languages",
    "fee_online",
    "fee_in_person",
    "currency",
    "photo",
    "user__id",
    "user__first_name",
    "user__last_name",
    "center__id",
    "center__name",
    "center__address",
    "center__city",
    "center__latitude",
    "center__longitude",
    "center__phone",
    "center__timezone",
)


def search_doctors(search: DoctorSearch) -> tuple[int, list[DoctorProfile]]:
    """The directory: filters, then sort. Three queries whatever the number of doctors or the
    page size: the page (with the count as a window over the filtered rows), the specialties
    of the page (prefetch) and the page's next free slots (`_attach_next_slots`); the count
    alone only when a page past the last one is empty.

    The costly part is "the next free slot" of a doctor: an index walk over their slots from
    now on, skipping booked and held ones. It is computed in the page query only to sort by
    it; `available_before` is an EXISTS over a bounded start range, not a comparison with
    that walk; specialty is an EXISTS, not a join that would need DISTINCT. Filters are
    collected and applied at once: every QuerySet.filter() clones the whole query."""
    now = timezone.now()
    conditions: list[Any] = [Q(user__is_active=True)]
    annotations: dict[str, Any] = {}
    if search.max_fee is not None or search.sort == "fee":
        annotations["fee"] = _fee_expression(search.mode)
    if search.specialty:
        conditions.append(
            Exists(Specialty.objects.filter(doctors=OuterRef("pk"), slug=search.specialty))
        )
    if search.city:
        conditions.append(Q(center__city__iexact=search.city))
    if search.language:
        # JSON list membership, portable across SQLite and PostgreSQL.
        conditions.append(Q(languages__icontains=f'"{search.language}"'))
    if search.name:
        for word in name_words(search.name):
            conditions.append(
                Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
            )
    if search.mode == Mode.ONLINE:
        conditions.append(Q(fee_online__isnull=False))
    elif search.mode == Mode.IN_PERSON:
        conditions.append(Q(fee_in_person__isnull=False))
    if search.max_fee is not None:
        conditions.append(Q(fee__lte=search.max_fee))
    if search.near is not None:
        lat, lng = search.near
        # A bounding box first (index-friendly), then the exact great-circle distance.
        dlat = search.radius_km / 111.0
        dlng = search.radius_km / max(1e-6, 111.0 * math.cos(math.radians(lat)))
        conditions.append(
            Q(
                center__latitude__gte=lat - dlat,
                center__latitude__lte=lat + dlat,
                center__longitude__gte=lng - dlng,
                center__longitude__lte=lng + dlng,
            )
        )
        annotations["distance_km"] = _distance_km(lat, lng)
        conditions.append(Q(distance_km__lte=search.radius_km))
    free = free_slots(now=now, mode=search.mode).filter(doctor=OuterRef("pk"))
    if search.available_before is not None:
        conditions.append(Exists(free.filter(start__lt=search.available_before)))
    order: list[Any]
    if search.sort == "fee":
        order = [F("fee").asc(nulls_last=True), "id"]
    elif search.sort == "rating":
        order = [F("rating_average").desc(nulls_last=True), "-rating_count", "id"]
    elif search.sort == "distance" and search.near is not None:
        order = ["distance_km", "id"]
    else:
        annotations["next_start"] = Subquery(free.order_by("start").values("start")[:1])
        order = [F("next_start").asc(nulls_last=True), "id"]
    ratings = Review.objects.filter(doctor=OuterRef("pk")).values("doctor")
    annotations["rating_average"] = Subquery(
        ratings.annotate(a=Avg("rating")).values("a")[:1], output_field=FloatField()
    )
    # No reviews: NULL, not 0. It only breaks ties between equal averages, and doctors
    # without reviews have no average either; the card shows 0.
    annotations["rating_count"] = Subquery(
        ratings.annotate(c=Count("id")).values("c")[:1], output_field=IntegerField()
    )
    filtered = (
        DoctorProfile.objects.select_related("center", "user")
        .only(*CARD_FIELDS)
        .annotate(**annotations)
        .filter(*conditions)
    )
    page: list[DoctorProfile] = list(
        filtered.annotate(found=Window(Count("pk")))
        .order_by(*order)
        .prefetch_related("specialties")[search.offset : search.offset + search.limit]
    )
    # Past the last page there is no row to read the count from.
    found = int(page[0].found) if page else None  # type: ignore[attr-defined]
    count = found if found is not None else (filtered.count() if search.offset else 0)
    _attach_next_slots(page, now=now, mode=search.mode)
    return count, page


def _attach_next_slots(doctors: list[DoctorProfile], *, now: datetime, mode: str | None) -> None:
    """Each doctor's next free slot (`next_slot`, and its `next_start`), in one query for the
    page, read as plain values (a model per row would cost more than the rest of it).
    Doctors sorted by availability come with `next_start` (None: nothing free), so their
    slots are found by (doctor, start), which is unique; for the others the query walks
    each page doctor's slots as the sort would (index-only with `slot_doctor_walk`)."""
    slots = Slot.objects.none()
    starts = {d.pk: d.next_start for d in doctors if hasattr(d, "next_start")}
    if len(starts) < len(doctors):
        first_free = (
            free_slots(now=now, mode=mode)
            .filter(doctor=OuterRef("pk"))
            .order_by("start")
            .values("id")[:1]
        )
        firsts = DoctorProfile.objects.filter(pk__in=[d.pk for d in doctors]).values(
            first=Subquery(first_free)
        )
        slots = Slot.objects.filter(id__in=firsts)
    elif wanted := {(pk, start) for pk, start in starts.items() if start is not None}:
        # The two IN lists also match another page doctor's slot at the same time.
        slots = Slot.objects.filter(
            doctor_id__in={pk for pk, _ in wanted}, start__in={start for _, start in wanted}
        )
    found = {
        doctor_id: Slot(id=id_, doctor_id=doctor_id, start=start, end=end, mode=slot_mode)
        for id_, doctor_id, start, end, slot_mode in slots.values_list(
            "id", "doctor_id", "start", "end", "mode"
        )
        if doctor_id not in starts or starts[doctor_id] == start
    }
    for doctor in doctors:
        slot = found.get(doctor.pk)
        doctor.next_slot = slot  # type: ignore[attr-defined]
        doctor.next_start = slot.start if slot is not None else None  # type: ignore[attr-defined]


def get_doctor_detail(*, doctor_id: UUID | str) -> tuple[DoctorProfile, list[Review]]:
    doctor = get_doctor(doctor_id=doctor_id)
    now = timezone.now()
    next_slot = free_slots(now=now).filter(doctor=doctor).order_by("start").first()
    doctor.next_start = next_slot.start if next_slot else None  # type: ignore[attr-defined]
    doctor.next_slot = next_slot  # type: ignore[attr-defined]
    stats = Review.objects.filter(doctor=doctor).aggregate(a=Avg("rating"), c=Count("id"))
    doctor.rating_average = stats["a"]  # type: ignore[attr-defined]
    doctor.rating_count = stats["c"]  # type: ignore[attr-defined]
    reviews = list(Review.objects.filter(doctor=doctor).select_related("patient")[:20])
    return doctor, reviews


# ------------------------------------------------------------------ appointments


def appointments_for_patient(*, patient: User) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient=patient)


def appointments_for_doctor(*, doctor: DoctorProfile) -> QuerySet[Appointment]:
    return Appointment.objects.filter(doctor=doctor)


def with_related(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    return appointments.select_related(
        "doctor__center", "doctor__user", "patient", "booked_by", "review"
    ).prefetch_related("doctor__specialties")


def split_by_time(
    appointments: QuerySet[Appointment], *, when: str, now: datetime | None = None
) -> QuerySet[Appointment]:
    now = now or timezone.now()
    if when == "upcoming":
        return appointments.filter(end__gt=now).order_by("start")
    if when == "past":
        return appointments.filter(end__lte=now).order_by("-start")
    return appointments.order_by("-start")


def get_appointment(*, appointment_id: UUID | str) -> Appointment:
    try:
        return with_related(Appointment.objects.all()).get(id=appointment_id)
    except (Appointment.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def is_center_staff(user: User, center_id: UUID) -> bool:
    if user.is_superuser:
        return True
    return RoleAssignment.objects.filter(
        user=user,
        center_id=center_id,
        role__in=[Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN],
    ).exists()


def may_manage_schedule(user: User, doctor: DoctorProfile) -> bool:
    """A doctor manages their own schedule; a center admin manages their doctors'."""
    if doctor.user_id == user.id or user.is_superuser:
        return True
    return RoleAssignment.objects.filter(
        user=user, center_id=doctor.center_id, role=Role.CENTER_ADMIN
    ).exists()


def doctor_of(user: User) -> DoctorProfile | None:
    return DoctorProfile.objects.filter(user=user).select_related("center", "user").first()


def list_doctor_patients(*, doctor: DoctorProfile, query: str = "") -> QuerySet[User]:
    patients = User.objects.filter(
        id__in=CareRelationship.objects.filter(clinician_id=doctor.user_id).values("patient_id"),
        is_active=True,
    )
    for word in query.split()[:4]:
        patients = patients.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return patients.order_by("last_name", "first_name")[:50]


def cancellation_deadline(appointment: Appointment) -> datetime:
    policy = policy_for(appointment.doctor.center_id)
    return appointment.start - timedelta(hours=policy.cancellation_notice_hours)


# ------------------------------------------------------------------ schedules


def list_rules(*, doctor: DoctorProfile) -> QuerySet[AvailabilityRule]:
    return AvailabilityRule.objects.filter(doctor=doctor).order_by("effective_from", "start_time")


def list_exceptions(
    *, doctor: DoctorProfile, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[ScheduleException]:
    exceptions = ScheduleException.objects.filter(doctor=doctor)
    if start is not None:
        exceptions = exceptions.filter(end__gt=start)
    if end is not None:
        exceptions = exceptions.filter(start__lt=end)
    return exceptions.order_by("start")


def list_conflicts(*, doctor: DoctorProfile, now: datetime | None = None) -> QuerySet[Appointment]:
    """Upcoming live appointments on slots no rule or extra hours cover any more."""
    now = now or timezone.now()
    return with_related(
        Appointment.objects.filter(
            LIVE,
            doctor=doctor,
            slot__published=False,
            start__gte=now,
            status__in=[
                Appointment.Status.REQUESTED,
                Appointment.Status.AWAITING_PAYMENT,
                Appointment.Status.CONFIRMED,
            ],
        )
    ).order_by("start")


def doctor_week(*, doctor: DoctorProfile, start_day: date | None) -> dict[str, Any]:
    zone = center_zone(doctor.center)
    if start_day is None:
        today = timezone.now().astimezone(zone).date()
        start_day = today - timedelta(days=today.weekday())
    start = datetime.combine(start_day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(start_day + timedelta(days=7), datetime.min.time(), tzinfo=zone)
    appointments = with_related(
        Appointment.objects.filter(doctor=doctor, start__gte=start, start__lt=end)
    ).order_by("start")
    free = list_doctor_slots(doctor_id=doctor.id, start=start, end=end)
    return {
        "doctor": doctor,
        "timezone": doctor.center.timezone,
        "start": start,
        "end": end,
        "appointments": list(appointments),
        "free_slots": free,
        "exceptions": list(list_exceptions(doctor=doctor, start=start, end=end)),
    }


# ------------------------------------------------------------------ waitlist


def list_waitlist(*, patients: list[User]) -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(patient__in=patients)
        .select_related("doctor__user", "patient", "hold__slot")
        .order_by("-created_at")
    )


def first_waiting_for(*, slot: Slot) -> WaitlistEntry | None:
    """The longest-waiting entry whose date range covers the slot's local date and whose mode
    the slot offers (call under the slot's lock)."""
    local_day = slot.start.astimezone(center_zone(slot.doctor.center)).date()
    entries = WaitlistEntry.objects.filter(
        doctor_id=slot.doctor_id,
        status=WaitlistEntry.Status.WAITING,
        earliest__lte=local_day,
        latest__gte=local_day,
    )
    if slot.mode != SlotMode.BOTH:
        entries = entries.filter(mode__in=[slot.mode, SlotMode.BOTH])
    return entries.select_related("patient").order_by("created_at").first()


def patients_actor_books_for(*, actor: User) -> list[User]:
    """The caller and everyone whose live grant lets the caller book for them."""
    from careconnect.accounts.selectors import list_actable_patients

    grants = list_actable_patients(user=actor)
    return [actor, *(g.patient for g in grants if "book" in g.scopes)]


def list_rules_by_id(*, rule_id: UUID) -> QuerySet[AvailabilityRule]:
    return AvailabilityRule.objects.filter(id=rule_id).select_related("doctor")
