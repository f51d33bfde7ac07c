"""Bench data for the booking benchmarks, written straight through the ORM (bulk inserts).

Run by the benchmarks in their sandbox (`Sandbox.env` points Django at the throw-away
database), one scenario per call; the answer is JSON written to `--out`:

    python -m bench.booking_seed contention --patients 100 --rounds 50 --out FILE
    python -m bench.booking_seed search --doctors 500 --out FILE
    python -m bench.booking_seed verify --slots FILE --out FILE

- `contention`: one doctor whose weekly rule is published through `services.create_rule`
  (so its slots are exactly what `materialise_slots` makes), one never-booked slot per
  round, and `--patients` patients, each with a DRF token.
- `search`: the directory at scale: `--doctors` doctors over several cities, specialties,
  languages and fees, each with one rule (`booking_horizon_days` 56) and the `Slot` rows
  that `services.plan_slots` plans for it (the planner `materialise_slots` uses), bulk
  inserted; a week of past slots with completed appointments and reviews; upcoming
  appointments (some doctors fully booked for days), cancelled ones and holds, so that
  "free" is not "every slot".
- `verify`: after a contention run, the live appointments on each contested slot (and any
  overlapping live appointments of the doctor) as the database sees them.

Deterministic (`--seed`). Never run against a database you care about: it only adds rows,
but the benchmarks drop their databases afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

PASSWORD = "bench-pass-2026"  # noqa: S105 - throw-away bench accounts
BATCH = 5000

# (city, latitude, longitude, IANA zone): spread over several zones so slot times differ.
CITIES = [
    ("Lisbon", 38.7223, -9.1393, "Europe/Lisbon"),
    ("Porto", 41.1579, -8.6291, "Europe/Lisbon"),
    ("Madrid", 40.4168, -3.7038, "Europe/Madrid"),
    ("Paris", 48.8566, 2.3522, "Europe/Paris"),
    ("Berlin", 52.5200, 13.4050, "Europe/Berlin"),
    ("London", 51.5072, -0.1276, "Europe/London"),
    ("New York", 40.7128, -74.0060, "America/New_York"),
    ("Chicago", 41.8781, -87.6298, "America/Chicago"),
]
CENTERS_PER_CITY = 5
LANGUAGE_POOL = ["en", "pt", "es", "fr", "de", "it", "ar", "hi", "zh", "ru"]
FIRST_NAMES = ["Ana", "Bruno", "Carla", "David", "Eva", "Filipe", "Gina", "Hugo", "Ines", "Jon"]
LAST_NAMES = ["Silva", "Costa", "Moreau", "Schmidt", "Garcia", "Smith", "Rossi", "Khan", "Lee"]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careconnect.settings")
    django.setup()


def _users(prefix: str, count: int, rng: random.Random) -> list[Any]:
    """`count` active users with a confirmed email and one shared password hash."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from careconnect.accounts.models import User

    hashed = make_password(PASSWORD)
    now = timezone.now()
    users = [
        User(
            email=f"{prefix}{i}@bench.test",
            first_name=rng.choice(FIRST_NAMES),
            last_name=f"{rng.choice(LAST_NAMES)}{i}",
            password=hashed,
            email_confirmed_at=now,
        )
        for i in range(count)
    ]
    User.objects.bulk_create(users, batch_size=BATCH)
    return users


def _patients(prefix: str, count: int, rng: random.Random) -> list[Any]:
    from careconnect.accounts.models import Role, RoleAssignment

    users = _users(prefix, count, rng)
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=u, role=Role.PATIENT) for u in users], batch_size=BATCH
    )
    return users


def _doctor(center: Any, index: int, rng: random.Random, **profile: Any) -> Any:
    from careconnect.accounts.models import DoctorProfile, Role, RoleAssignment

    (user,) = _users(f"doctor{index}-", 1, rng)
    RoleAssignment.objects.create(user=user, role=Role.DOCTOR, center=center)
    return DoctorProfile.objects.create(user=user, center=center, **profile)


def _raw_insert(model: Any, rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> int:
    """Insert plain rows fast: COPY on PostgreSQL, executemany on SQLite (where UUIDs are
    stored as hex and datetimes as naive UTC text, as Django stores them). bulk_create
    spends ~0.2 ms of Python per slot row here; this is ~10 times cheaper."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our names
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) >= BATCH * 4:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return value


def _model_rows(model: Any, objects: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    """Columns and values of unsaved model instances (defaults and auto_now applied)."""
    fields = list(model._meta.concrete_fields)
    return [f.column for f in fields], [[f.pre_save(o, True) for f in fields] for o in objects]


# ------------------------------------------------------------------ contention


def seed_contention(args: argparse.Namespace) -> dict[str, Any]:
    """One doctor, a published rule, a fresh slot per round, patients with tokens."""
    from django.utils import timezone

    from booking import selectors, services
    from booking.models import Mode, SlotMode
    from careconnect.accounts.models import ApiToken, MedicalCenter
    from careconnect.accounts.tokens import new_api_token

    rng = random.Random(args.seed)
    center = MedicalCenter.objects.create(
        name="Bench Contention Clinic",
        city="Lisbon",
        latitude=Decimal("38.722300"),
        longitude=Decimal("-9.139300"),
        timezone="Europe/Lisbon",
    )
    doctor = _doctor(center, 0, rng, fee_online=Decimal("30.00"), fee_in_person=Decimal("50.00"))
    services.create_rule(
        actor=doctor.user,
        doctor_id=doctor.id,
        data={
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "start_time": clock(8, 0),
            "end_time": clock(20, 0),
            "slot_minutes": 15,
            "buffer_minutes": 0,
            "mode": SlotMode.BOTH,
            "effective_from": timezone.localdate() - timedelta(days=1),
            "effective_until": None,
            "min_notice_minutes": 60,
            "booking_horizon_days": 56,
        },
    )
    # Slots from tomorrow on, far from the notice edge, one per round and never booked.
    tomorrow = timezone.now() + timedelta(days=1)
    slots = list(
        selectors.free_slots(mode=Mode.ONLINE)
        .filter(doctor=doctor, start__gte=tomorrow)
        .order_by("start")
        .values_list("id", flat=True)[: args.rounds]
    )
    if len(slots) < args.rounds:
        raise SystemExit(f"only {len(slots)} free slots for {args.rounds} rounds")
    patients = _patients("contender", args.patients, rng)
    issued = [new_api_token() for _ in patients]  # (token, digest): only digests are stored
    ApiToken.objects.bulk_create(
        ApiToken(user=u, digest=digest) for u, (_, digest) in zip(patients, issued, strict=True)
    )
    return {
        "doctor": str(doctor.id),
        "slots": [str(s) for s in slots],
        "tokens": [token for token, _ in issued],
    }


def verify_contention(args: argparse.Namespace) -> dict[str, Any]:
    """Per contested slot: how many live appointments the database holds (exactly one is
    right; more is a double booking), and live appointments of the doctor that overlap."""
    from django.db.models import Count, Q

    from booking.models import Appointment, Slot

    slot_ids = json.loads(Path(args.slots).read_text())["slots"]
    live = ~Q(status=Appointment.Status.CANCELLED)
    per_slot = dict(
        Appointment.objects.filter(live, slot_id__in=slot_ids)
        .values("slot_id")
        .annotate(n=Count("id"))
        .values_list("slot_id", "n")
    )
    existing = Slot.objects.filter(id__in=slot_ids).values_list("id", flat=True)
    counts = {str(s): int(per_slot.get(s, 0)) for s in existing}
    doctors = set(Slot.objects.filter(id__in=slot_ids).values_list("doctor_id", flat=True))
    overlapping = 0
    for doctor_id in doctors:
        rows = list(
            Appointment.objects.filter(live, doctor_id=doctor_id)
            .order_by("start")
            .values_list("start", "end")
        )
        overlapping += sum(1 for a, b in itertools.pairwise(rows) if b[0] < a[1])
    return {
        "live_per_slot": counts,
        "double_bookings": sum(max(0, n - 1) for n in counts.values()),
        "slots_without_booking": sum(1 for n in counts.values() if n == 0),
        "overlapping_live_appointments": overlapping,
        "live_appointments": sum(counts.values()),
    }


# ------------------------------------------------------------------ search


SLOT_COLUMNS = (
    "id",
    "doctor_id",
    "start",
    "end",
    "mode",
    "opens_at",
    "closes_at",
    "published",
    "rule_id",
    "exception_id",
)


@dataclass(frozen=True, slots=True)
class SlotRow:
    id: uuid.UUID
    doctor_id: uuid.UUID
    start: datetime
    end: datetime
    mode: str
    closes_at: datetime


@dataclass
class Counts:
    doctors: int = 0
    centers: int = 0
    rules: int = 0
    slots: int = 0
    past_slots: int = 0
    appointments_live: int = 0
    appointments_cancelled: int = 0
    holds: int = 0
    reviews: int = 0


def _rule_data(rng: random.Random) -> dict[str, Any]:
    """A doctor's weekly pattern: ~16 slots a day, most every day, some weekdays only."""
    shape = rng.random()
    if shape < 0.6:  # every day, 30-minute slots over 8 hours
        start = rng.choice([8, 9, 10])
        return {
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "start_time": clock(start, 0),
            "end_time": clock(start + 8, 0),
            "slot_minutes": 30,
        }
    if shape < 0.85:  # weekdays, 20-minute slots over 7.5 hours (+ a 5 min buffer)
        return {
            "weekdays": [1, 2, 3, 4, 5],
            "start_time": clock(9, 0),
            "end_time": clock(17, 30),
            "slot_minutes": 20,
            "buffer_minutes": 5,
        }
    return {  # every day, 45-minute slots over 12 hours
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "start_time": clock(7, 0),
        "end_time": clock(19, 0),
        "slot_minutes": 45,
    }


def seed_search(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from booking import services
    from booking.models import Appointment, AvailabilityRule, Hold, Review, Slot, SlotMode
    from careconnect.accounts.models import (
        DoctorProfile,
        MedicalCenter,
        Role,
        RoleAssignment,
        Specialty,
    )

    rng = random.Random(args.seed)
    started = time.monotonic()
    now = timezone.now()
    counts = Counts()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.monotonic() - since, 2)
        return time.monotonic()

    t = time.monotonic()
    with transaction.atomic():
        centers: list[MedicalCenter] = []
        for city, lat, lng, zone in CITIES:
            for i in range(CENTERS_PER_CITY):
                # Within ~15 km of the city center, so near=+radius_km picks a part of them.
                centers.append(
                    MedicalCenter(
                        name=f"{city} Clinic {i + 1}",
                        city=city,
                        address=f"{i + 1} Bench Street",
                        latitude=Decimal(f"{lat + rng.uniform(-0.12, 0.12):.6f}"),
                        longitude=Decimal(f"{lng + rng.uniform(-0.15, 0.15):.6f}"),
                        timezone=zone,
                    )
                )
        MedicalCenter.objects.bulk_create(centers)
        counts.centers = len(centers)
        specialties = list(Specialty.objects.values_list("slug", flat=True))
        weights = [
            3.0 if s in {"general-practice", "family-medicine"} else 1.0 for s in specialties
        ]

        users = _users("doctor", args.doctors, rng)
        profiles: list[DoctorProfile] = []
        for user in users:
            center = rng.choice(centers)
            online = rng.random() < 0.8
            in_person = not online or rng.random() < 0.7
            profiles.append(
                DoctorProfile(
                    user=user,
                    center=center,
                    languages=sorted(
                        {"en", *rng.sample(LANGUAGE_POOL, rng.choice([0, 1, 1, 2, 3]))}
                    ),
                    fee_online=Decimal(rng.randrange(20, 150, 5)) if online else None,
                    fee_in_person=Decimal(rng.randrange(30, 200, 5)) if in_person else None,
                    license_number=f"BENCH-{user.last_name}",
                    bio="Bench doctor.",
                )
            )
        DoctorProfile.objects.bulk_create(profiles, batch_size=BATCH)
        RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=p.user, role=Role.DOCTOR, center=p.center) for p in profiles],
            batch_size=BATCH,
        )
        through = DoctorProfile.specialties.through
        links = []
        for profile in profiles:
            chosen = set(rng.choices(specialties, weights=weights, k=rng.choice([1, 1, 2, 3])))
            links += [through(doctorprofile_id=profile.id, specialty_id=s) for s in chosen]
        through.objects.bulk_create(links, batch_size=BATCH)
        counts.doctors = len(profiles)
        patients = _patients("patient", args.patients, rng)
    t = lap("doctors_s", t)

    # Rules, and their slots planned by the same code materialise_slots uses.
    rules: list[AvailabilityRule] = []
    for profile in profiles:
        data = _rule_data(rng)
        rules.append(
            AvailabilityRule(
                doctor=profile,
                buffer_minutes=data.pop("buffer_minutes", 0),
                mode=rng.choice([SlotMode.BOTH, SlotMode.BOTH, SlotMode.ONLINE, SlotMode.IN_PERSON])
                if profile.fee_online is not None and profile.fee_in_person is not None
                else SlotMode.ONLINE
                if profile.fee_online is not None
                else SlotMode.IN_PERSON,
                effective_from=(now - timedelta(days=args.past_days + 2)).date(),
                min_notice_minutes=rng.choice([0, 60, 120, 240]),
                booking_horizon_days=args.horizon_days,
                **data,
            )
        )
    AvailabilityRule.objects.bulk_create(rules, batch_size=BATCH)
    counts.rules = len(rules)
    # Slot rows as tuples (no model instances: ~500k of them); `SlotRow` keeps what the
    # bookings below need.
    future_by_doctor: dict[Any, list[SlotRow]] = {}
    past_by_doctor: dict[Any, list[SlotRow]] = {}
    window_end = now + timedelta(days=args.horizon_days + 1)  # as services._window

    def slot_rows() -> Iterator[tuple[Any, ...]]:
        for profile, rule in zip(profiles, rules, strict=True):
            planned = services.plan_slots(
                doctor=profile,
                rules=[rule],
                exceptions=[],
                window_start=now - timedelta(days=args.past_days),
                window_end=window_end,
            )
            future = future_by_doctor.setdefault(profile.id, [])
            past = past_by_doctor.setdefault(profile.id, [])
            for plan in planned:
                row = SlotRow(
                    uuid.uuid4(), profile.id, plan.start, plan.end, plan.mode, plan.closes_at
                )
                (future if plan.start >= now else past).append(row)
                yield (
                    row.id,
                    profile.id,
                    plan.start,
                    plan.end,
                    plan.mode,
                    plan.opens_at,
                    plan.closes_at,
                    True,
                    rule.id,
                    None,
                )

    # In time order, as a running system writes them (the daily refresh adds a day for every
    # doctor), so one doctor's slots are spread over the table, not packed together.
    ordered = sorted(slot_rows(), key=lambda row: row[2])
    with transaction.atomic():
        _raw_insert(Slot, ordered, SLOT_COLUMNS)
    del ordered
    counts.slots = sum(len(v) for v in future_by_doctor.values())
    counts.past_slots = sum(len(v) for v in past_by_doctor.values())
    t = lap("slots_s", t)

    # Bookings. Past: completed appointments, most with a review. Upcoming: every doctor
    # has some booked; a fifth are fully booked for their first days (so `next_available`
    # and `available_before` have to skip booked slots); some cancelled (free again); some
    # first free slots held for someone else (not free for others).
    appointments: list[Appointment] = []
    reviews: list[Review] = []
    holds: list[Hold] = []

    def book(slot: SlotRow, patient: Any, status: str) -> Appointment:
        mode = slot.mode if slot.mode != SlotMode.BOTH else rng.choice(["online", "in_person"])
        appointment = Appointment(
            doctor_id=slot.doctor_id,
            patient=patient,
            booked_by=patient,
            slot_id=slot.id,
            start=slot.start,
            end=slot.end,
            mode=mode,
            status=status,
        )
        appointments.append(appointment)
        return appointment

    fortnight = now + timedelta(days=14)
    for profile in profiles:
        past = past_by_doctor[profile.id]
        if past and rng.random() < 0.75:
            reviewers = rng.sample(patients, min(len(patients), rng.randint(1, 15), len(past)))
            for slot, patient in zip(rng.sample(past, len(reviewers)), reviewers, strict=True):
                done = book(slot, patient, Appointment.Status.COMPLETED)
                reviews.append(
                    Review(
                        doctor=profile,
                        patient=patient,
                        appointment=done,
                        rating=rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 3, 6, 8])[0],
                        text="",
                    )
                )
        future = future_by_doctor[profile.id]
        busy_until = now + timedelta(days=rng.choice([3, 5, 7, 10]))
        fully_booked = rng.random() < 0.2
        booked_share = rng.uniform(0.05, 0.5)
        first_free: SlotRow | None = None
        for slot in future:
            busy = slot.start < busy_until and (fully_booked or rng.random() < booked_share)
            if busy or (slot.start < fortnight and rng.random() < 0.2):
                book(slot, rng.choice(patients), Appointment.Status.CONFIRMED)
            elif rng.random() < 0.02:
                book(slot, rng.choice(patients), Appointment.Status.CANCELLED)
            elif first_free is None and slot.closes_at > now:
                first_free = slot
        if first_free is not None and rng.random() < 0.1:
            holds.append(
                Hold(
                    slot_id=first_free.id,
                    patient=rng.choice(patients),
                    purpose=Hold.Purpose.WAITLIST_OFFER,
                    expires_at=now + timedelta(hours=6),
                )
            )
    with transaction.atomic():
        for model, objects in ((Appointment, appointments), (Review, reviews), (Hold, holds)):
            columns, rows = _model_rows(model, objects)
            _raw_insert(model, rows, columns)
    counts.appointments_cancelled = sum(a.status == "cancelled" for a in appointments)
    counts.appointments_live = len(appointments) - counts.appointments_cancelled
    counts.holds, counts.reviews = len(holds), len(reviews)
    t = lap("bookings_s", t)
    _analyze()
    lap("vacuum_analyze_s", t)
    timings["total_s"] = round(time.monotonic() - started, 2)
    lisbon = CITIES[0]
    return {
        "counts": vars(counts),
        "timings": timings,
        "near": [lisbon[1], lisbon[2]],
        "specialty": "general-practice",
        "city": lisbon[0],
    }


def _analyze() -> None:
    """PostgreSQL: planner statistics and visibility maps after the bulk load, as autovacuum
    would soon have them in a running system (without the visibility map every index-only
    probe of "is this slot booked" also reads the heap). SQLite keeps no statistics unless
    someone runs ANALYZE, and the app does not."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=["contention", "search", "verify"])
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=50, help="contention: slots to seed")
    parser.add_argument("--doctors", type=int, default=500, help="search: doctors")
    parser.add_argument("--horizon-days", type=int, default=56, help="search: booking horizon")
    parser.add_argument("--past-days", type=int, default=7, help="search: days of past slots")
    parser.add_argument("--slots", type=Path, help="verify: the contention seed's JSON")
    args = parser.parse_args(argv)
    setup()
    if args.scenario == "contention":
        args.patients = args.patients or 100
        result = seed_contention(args)
    elif args.scenario == "search":
        args.patients = args.patients or 300
        result = seed_search(args)
    else:
        if args.slots is None:
            parser.error("verify needs --slots")
        result = verify_contention(args)
    args.out.write_text(json.dumps(result, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
