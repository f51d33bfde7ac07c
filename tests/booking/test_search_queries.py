"""GET /api/doctors/ runs a small, fixed number of SQL queries: the same for 5 doctors as for
30, for a page of 1 as for a page of 100, whatever the filters and the sort. No query per
doctor, per result or per slot (bench/booking_search_bench.py measures the latency)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Appointment, Hold, Review, Slot, SlotMode
from careconnect.accounts.models import DoctorProfile, Specialty, User
from tests.booking.conftest import publish_rule
from tests.conftest import Api
from tests.factories import make_center, make_doctor, make_patient

pytestmark = pytest.mark.django_db

# Monday 2026-06-01, 07:00 in Lisbon: every rule below starts at 09:00, so no slot crosses
# "now" while a test runs.
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
HERE = "38.722252,-9.139337"  # central Lisbon; every center below is within ~8 km
# The page (its count a window over the filtered rows), the page's specialties and the
# page's next free slots. Past the last page: the empty page and the count on its own.
MAX_QUERIES = 3

SEARCHES: dict[str, dict[str, str]] = {
    "default": {},
    "filtered": {
        "specialty": "general-practice",
        "mode": "online",
        "max_fee": "100",
        "available_before": "2026-06-04",
        "sort": "next_available",
    },
    "near": {
        "near": HERE,
        "radius_km": "25",
        "available_before": "2026-06-05T12:00:00Z",
        "sort": "distance",
    },
    "rating": {"sort": "rating", "language": "pt"},
    "fee": {"sort": "fee", "mode": "in_person", "city": "Lisbon"},
    "name": {"q": "Doctor", "sort": "next_available", "mode": "in_person"},
    "one_per_page": {"limit": "1", "sort": "rating"},
    "everyone_on_one_page": {"limit": "100", "near": HERE, "sort": "distance"},
    "past_the_last_page": {"offset": "500", "specialty": "general-practice"},
}


@pytest.fixture(autouse=True)
def _monday_morning() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def add_doctors(count: int, *, first: int) -> None:
    """Doctors around Lisbon that differ in what the search looks at: specialties, languages,
    fees and modes, a published rule (a week of slots), some slots booked or held (so the
    next free slot is not the first slot), some cancelled bookings, some reviews."""
    patient = make_patient()
    gp, cardiology = (
        Specialty.objects.get(slug="general-practice"),
        Specialty.objects.get(slug="cardiology"),
    )
    for n in range(first, first + count):
        center = make_center(
            city="Lisbon",
            latitude=Decimal(f"{38.70 + (n % 7) * 0.01:.6f}"),
            longitude=Decimal(f"{-9.16 + (n % 5) * 0.01:.6f}"),
        )
        user = make_doctor(center=center)
        User.objects.filter(id=user.id).update(first_name="Doctor", last_name=f"Number{n}")
        profile = DoctorProfile.objects.get(user=user)
        profile.languages = ["pt", "en"] if n % 2 else ["en"]
        profile.fee_online = Decimal(20 + n)
        profile.fee_in_person = Decimal(40 + n) if n % 3 else None
        profile.save()
        profile.specialties.add(gp, *([cardiology] if n % 2 else []))
        publish_rule(
            user,
            booking_horizon_days=7,
            mode=SlotMode.BOTH if n % 4 else SlotMode.ONLINE,
        )
        slots = list(Slot.objects.filter(doctor=profile).order_by("start"))
        for slot in slots[: n % 4]:  # booked: the walk to the next free slot skips them
            Appointment.objects.create(
                doctor=profile,
                patient=patient,
                booked_by=patient,
                slot=slot,
                start=slot.start,
                end=slot.end,
                mode="online",
            )
        if n % 5 == 0:  # a cancelled booking leaves its slot free
            slot = slots[4]
            Appointment.objects.create(
                doctor=profile,
                patient=patient,
                booked_by=patient,
                slot=slot,
                start=slot.start,
                end=slot.end,
                mode="online",
                status=Appointment.Status.CANCELLED,
            )
        if n % 3 == 0:  # held for someone else: not free for anyone searching
            Hold.objects.create(
                slot=slots[5],
                patient=patient,
                purpose=Hold.Purpose.WAITLIST_OFFER,
                expires_at=NOW + timedelta(minutes=15),
            )
        if n % 2 == 0:
            _review(profile, rating=1 + n % 5)


def _review(doctor: DoctorProfile, *, rating: int) -> None:
    """A completed appointment last week and its review (rows only: this file counts the
    search's queries, the booking services have their own tests)."""
    reviewer = make_patient()
    start = NOW - timedelta(days=7)
    slot = Slot.objects.create(
        doctor=doctor,
        start=start,
        end=start + timedelta(minutes=30),
        mode=SlotMode.BOTH,
        opens_at=start - timedelta(days=7),
        closes_at=start,
    )
    appointment = Appointment.objects.create(
        doctor=doctor,
        patient=reviewer,
        booked_by=reviewer,
        slot=slot,
        start=slot.start,
        end=slot.end,
        mode="online",
        status=Appointment.Status.COMPLETED,
    )
    Review.objects.create(doctor=doctor, patient=reviewer, appointment=appointment, rating=rating)


def run_search(api: Api, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The number of queries GET /api/doctors/ ran, and its answer."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/doctors/?{urlencode(params)}")
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.mark.parametrize("params", SEARCHES.values(), ids=SEARCHES.keys())
def test_search_runs_the_same_few_queries_for_5_or_30_doctors(
    api: Api,
    params: dict[str, str],
    django_assert_max_num_queries: Callable[[int], AbstractContextManager[Any]],
) -> None:
    # given: 5 doctors
    add_doctors(5, first=0)
    # when
    with django_assert_max_num_queries(MAX_QUERIES):
        few_queries, few = run_search(api, params)
    # and then with 30
    add_doctors(25, first=5)
    with django_assert_max_num_queries(MAX_QUERIES):
        many_queries, many = run_search(api, params)
    # then: more doctors found (except past the last page), not one query more
    if params.get("offset"):
        assert few["results"] == many["results"] == []
        assert many["count"] > few["count"] > 0
    else:
        assert many["count"] > few["count"] > 0
        assert len(many["results"]) >= len(few["results"])
    assert many_queries == few_queries


def test_cards_carry_what_they_show_without_extra_queries(api: Api) -> None:
    # given: 30 doctors, all on one page, sorted by something else than availability
    add_doctors(30, first=0)
    # when
    queries, page = run_search(api, {"limit": "100", "sort": "rating"})
    # then: every card is complete (a field read outside the page query would have cost a
    # query per card, and shown up in the count)
    assert queries <= MAX_QUERIES
    assert page["count"] == len(page["results"]) == 30
    for card in page["results"]:
        assert card["name"].startswith("Dr Doctor Number")
        assert card["specialties"]
        assert card["center"]["city"] == "Lisbon"
        assert card["next_available"] is not None
        assert card["fees"]["online"] is not None
    rated = [c for c in page["results"] if c["rating"]["count"]]
    assert len(rated) == 15
    averages = [Decimal(c["rating"]["average"]) for c in rated]
    assert averages == sorted(averages, reverse=True)


def test_next_available_is_the_first_slot_neither_booked_nor_held(api: Api) -> None:
    # given: doctor 3 has its first three slots booked; doctor 0 has a hold on its sixth
    add_doctors(6, first=0)
    # when
    _, page = run_search(api, {"limit": "100", "sort": "distance", "near": HERE})
    # then
    for card in page["results"]:
        doctor = DoctorProfile.objects.get(id=card["id"])
        free = [
            s
            for s in Slot.objects.filter(doctor=doctor, start__gt=NOW).order_by("start")
            if not s.appointments.exclude(status=Appointment.Status.CANCELLED).exists()
            and not s.holds.filter(released_at__isnull=True, expires_at__gt=NOW).exists()
        ]
        assert card["next_available"]["slot"] == str(free[0].id)
