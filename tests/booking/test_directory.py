"""The public directory: search filters and sorts over seeded doctors, the doctor's page
and their bookable slots (docs/api-booking.md, Directory)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking import services
from booking.models import Appointment, Hold, Slot
from booking.payments import services as payments
from booking.payments.dev import CARD_SUCCEEDS
from careconnect.accounts.models import DoctorProfile, MedicalCenter, Specialty, User
from tests.booking.conftest import publish_rule
from tests.conftest import Api, signed_in
from tests.factories import make_center, make_doctor, make_patient

pytestmark = pytest.mark.django_db

# Monday 2026-06-01, 07:00 in Lisbon (summer time, UTC+1).
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
LISBON = ZoneInfo("Europe/Lisbon")
HERE = (38.722252, -9.139337)  # central Lisbon


@pytest.fixture(autouse=True)
def _monday_morning() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass(frozen=True)
class Directory:
    ana: DoctorProfile  # Lisbon, cardiology, pt/en, online 30 / in person 60, from 09:00 today
    bruno: DoctorProfile  # Sintra (~23 km), general practice, pt, online 20, from 14:00 today
    carla: DoctorProfile  # Porto, dermatology, en/es, in person 40, only from 2026-06-11
    david: DoctorProfile  # New York, cardiology, en, online 50 / in person 45, no availability

    def name_of(self, doctor_id: str) -> str:
        for name in ("ana", "bruno", "carla", "david"):
            if str(getattr(self, name).id) == doctor_id:
                return name
        raise AssertionError(doctor_id)


def _doctor(
    center: MedicalCenter,
    first_name: str,
    last_name: str,
    *,
    specialty: str,
    languages: list[str],
    online: str | None,
    in_person: str | None,
) -> DoctorProfile:
    user = make_doctor(center=center)
    User.objects.filter(id=user.id).update(first_name=first_name, last_name=last_name)
    profile = DoctorProfile.objects.get(user=user)
    profile.languages = languages
    profile.fee_online = Decimal(online) if online else None
    profile.fee_in_person = Decimal(in_person) if in_person else None
    profile.bio = f"{first_name} has practised for years."
    profile.license_number = f"LIC-{last_name.upper()}"
    profile.save()
    profile.specialties.add(Specialty.objects.get(slug=specialty))
    return profile


@pytest.fixture
def directory(db: None) -> Directory:
    lisbon = make_center(
        name="Lisbon Heart",
        city="Lisbon",
        latitude=Decimal("38.722252"),
        longitude=Decimal("-9.139337"),
        address="Avenida da Liberdade 10",
    )
    sintra = make_center(
        name="Sintra Family",
        city="Sintra",
        latitude=Decimal("38.802200"),
        longitude=Decimal("-9.381700"),
    )
    porto = make_center(
        name="Porto Skin",
        city="Porto",
        latitude=Decimal("41.157900"),
        longitude=Decimal("-8.629100"),
    )
    new_york = make_center(
        name="Hudson Cardio",
        city="New York",
        latitude=Decimal("40.712800"),
        longitude=Decimal("-74.006000"),
        timezone="America/New_York",
    )
    seeded = Directory(
        ana=_doctor(
            lisbon,
            "Ana",
            "Sousa",
            specialty="cardiology",
            languages=["pt", "en"],
            online="30.00",
            in_person="60.00",
        ),
        bruno=_doctor(
            sintra,
            "Bruno",
            "Costa",
            specialty="general-practice",
            languages=["pt"],
            online="20.00",
            in_person=None,
        ),
        carla=_doctor(
            porto,
            "Carla",
            "Mendes",
            specialty="dermatology",
            languages=["en", "es"],
            online=None,
            in_person="40.00",
        ),
        david=_doctor(
            new_york,
            "David",
            "Smith",
            specialty="cardiology",
            languages=["en"],
            online="50.00",
            in_person="45.00",
        ),
    )
    publish_rule(seeded.ana.user)
    publish_rule(seeded.bruno.user, start_time=time(14, 0), end_time=time(17, 0))
    publish_rule(seeded.carla.user, effective_from=date(2026, 6, 11))
    return seeded


def search(api: Api, directory: Directory, **params: Any) -> tuple[int, list[str], list[Any]]:
    response = api.get(f"/api/doctors/?{urlencode(params)}")
    assert response.status_code == 200, response.content
    body = response.json()
    names = [directory.name_of(card["id"]) for card in body["results"]]
    return body["count"], names, body["results"]


def names(api: Api, directory: Directory, **params: Any) -> list[str]:
    return search(api, directory, **params)[1]


def lisbon(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LISBON)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def complete_and_review(doctor: DoctorProfile, rating: int, first: str, last: str) -> None:
    """A patient books the doctor's first free slot, is seen, and writes a review."""
    patient = make_patient(first_name=first, last_name=last)
    slot = Slot.objects.filter(doctor=doctor, appointments__isnull=True).order_by("start")[0]
    mode = "online" if doctor.fee_online is not None else "in_person"
    appointment = services.book_slot(actor=patient, slot_id=slot.id, mode=mode)
    if (fee := payments.booking_payment(appointment)) is not None:  # the fee, paid
        payments.dev_pay(actor=patient, payment_id=fee.id, card_number=CARD_SUCCEEDS)
    with time_machine.travel(appointment.end + timedelta(minutes=5), tick=False):
        services.complete_appointment(actor=doctor.user, appointment_id=appointment.id)
        services.write_review(
            actor=patient, appointment_id=appointment.id, rating=rating, text=f"{rating} stars"
        )


# ------------------------------------------------------------------ filters


def test_everyone_is_listed_by_next_available_by_default(api: Api, directory: Directory) -> None:
    count, found, cards = search(api, directory)
    assert count == 4
    assert found == ["ana", "bruno", "carla", "david"]
    starts = [card["next_available"] and card["next_available"]["start"] for card in cards]
    assert starts == [
        "2026-06-01T08:00:00Z",
        "2026-06-01T13:00:00Z",
        "2026-06-11T08:00:00Z",
        None,
    ]


def test_each_result_carries_its_next_free_slot(api: Api, directory: Directory) -> None:
    first = Slot.objects.get(doctor=directory.ana, start=lisbon(date(2026, 6, 1), 9))
    _, _, cards = search(api, directory, q="Sousa")
    assert cards[0]["next_available"] == {
        "slot": str(first.id),
        "start": "2026-06-01T08:00:00Z",
        "end": "2026-06-01T08:30:00Z",
        "mode": "both",
    }
    # once that slot is booked, the next one is offered
    services.book_slot(actor=make_patient(), slot_id=first.id, mode="online")
    _, _, cards = search(api, directory, q="Sousa")
    assert cards[0]["next_available"]["start"] == "2026-06-01T08:30:00Z"


def test_card_shape(api: Api, directory: Directory) -> None:
    _, _, cards = search(api, directory, q="Ana")
    card = cards[0]
    assert card["user"] == str(directory.ana.user_id)
    assert card["name"] == "Dr Ana Sousa"
    assert card["specialties"] == [{"slug": "cardiology", "name": "Cardiology"}]
    assert card["center"]["city"] == "Lisbon"
    assert card["languages"] == ["pt", "en"]
    assert card["fees"] == {
        "online": {"amount": "30.00", "currency": "USD"},
        "in_person": {"amount": "60.00", "currency": "USD"},
    }
    assert card["modes"] == ["online", "in_person"]
    assert card["rating"] == {"average": None, "count": 0}
    assert card["distance_km"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"specialty": "cardiology"}, ["ana", "david"]),
        ({"specialty": "dermatology"}, ["carla"]),
        ({"specialty": "neurology"}, []),
        ({"city": "lisbon"}, ["ana"]),
        ({"city": "New York"}, ["david"]),
        ({"mode": "online"}, ["ana", "bruno", "david"]),
        ({"mode": "in_person"}, ["ana", "carla", "david"]),
        ({"language": "pt"}, ["ana", "bruno"]),
        ({"language": "es"}, ["carla"]),
        ({"q": "sousa"}, ["ana"]),
        ({"q": "Bruno Costa"}, ["bruno"]),
        ({"q": "mendes carla"}, ["carla"]),
        ({"q": "Dr Sousa"}, ["ana"]),  # the title people type is not part of a name
        ({"q": "dra. Carla"}, ["carla"]),
        ({"q": "Dr."}, ["ana", "bruno", "carla", "david"]),
        ({"q": "Nobody"}, []),
        ({"specialty": "cardiology", "mode": "in_person", "language": "en"}, ["ana", "david"]),
    ],
)
def test_search_filters(
    api: Api, directory: Directory, params: dict[str, str], expected: list[str]
) -> None:
    count, found, _ = search(api, directory, **params)
    assert found == expected
    assert count == len(expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # without mode, the lower of the two fees counts
        ({"max_fee": "42"}, ["ana", "bruno", "carla"]),
        ({"max_fee": "45"}, ["ana", "bruno", "carla", "david"]),
        ({"max_fee": "19.99"}, []),
        # with mode, that mode's fee
        ({"max_fee": "42", "mode": "in_person"}, ["carla"]),
        ({"max_fee": "42", "mode": "online"}, ["ana", "bruno"]),
        ({"max_fee": "50", "mode": "online"}, ["ana", "bruno", "david"]),
    ],
)
def test_search_by_maximum_fee(
    api: Api, directory: Directory, params: dict[str, str], expected: list[str]
) -> None:
    assert sorted(names(api, directory, **params)) == expected


def test_search_near_a_place_filters_by_radius_and_sorts_by_distance(
    api: Api, directory: Directory
) -> None:
    # given: someone in central Lisbon
    near = f"{HERE[0]},{HERE[1]}"
    # when
    count, found, cards = search(api, directory, near=near, radius_km=30, sort="distance")
    # then: Lisbon and Sintra, nearest first, with their distances
    assert count == 2
    assert found == ["ana", "bruno"]
    sintra = haversine_km(HERE, (38.8022, -9.3817))
    assert cards[0]["distance_km"] == pytest.approx(0.0, abs=0.01)
    assert cards[1]["distance_km"] == pytest.approx(sintra, abs=0.05)
    assert 20 < sintra < 30
    # a smaller radius leaves Sintra out, a larger one takes in Porto
    assert names(api, directory, near=near, radius_km=10) == ["ana"]
    assert names(api, directory, near=near, radius_km=300, sort="distance") == [
        "ana",
        "bruno",
        "carla",
    ]
    # the default radius is 25 km
    assert names(api, directory, near=near, sort="distance") == ["ana", "bruno"]


def test_available_before_leaves_out_doctors_only_free_later(
    api: Api, directory: Directory
) -> None:
    assert names(api, directory, available_before="2026-06-05") == ["ana", "bruno"]
    assert names(api, directory, available_before="2026-06-01T10:00:00Z") == ["ana"]
    assert names(api, directory, available_before="2026-06-12") == ["ana", "bruno", "carla"]


def test_available_before_ignores_booked_slots(api: Api, directory: Directory) -> None:
    # given: Bruno's only slots before 15:00 Lisbon time are taken
    for start in (lisbon(date(2026, 6, 1), 14), lisbon(date(2026, 6, 1), 14, 30)):
        slot = Slot.objects.get(doctor=directory.bruno, start=start)
        services.book_slot(actor=make_patient(), slot_id=slot.id, mode="online")
    # then
    assert names(api, directory, available_before="2026-06-01T14:00:00Z") == ["ana"]


# ------------------------------------------------------------------ sorting and pages


def test_sort_by_fee(api: Api, directory: Directory) -> None:
    assert names(api, directory, sort="fee") == ["bruno", "ana", "carla", "david"]
    assert names(api, directory, sort="fee", mode="in_person") == ["carla", "david", "ana"]


def test_sort_by_rating(api: Api, directory: Directory) -> None:
    # given: verified reviews after completed appointments
    complete_and_review(directory.ana, 5, "Maria", "Silva")
    complete_and_review(directory.ana, 4, "Joao", "Pereira")
    complete_and_review(directory.bruno, 3, "Rita", "Alves")
    complete_and_review(directory.carla, 5, "Paula", "Reis")
    # when
    count, found, cards = search(api, directory, sort="rating")
    # then
    assert count == 4
    assert found == ["carla", "ana", "bruno", "david"]
    assert [c["rating"] for c in cards] == [
        {"average": "5.00", "count": 1},
        {"average": "4.50", "count": 2},
        {"average": "3.00", "count": 1},
        {"average": None, "count": 0},
    ]


def test_pages_with_limit_and_offset(api: Api, directory: Directory) -> None:
    count, found, _ = search(api, directory, limit=2, offset=1)
    assert (count, found) == (4, ["bruno", "carla"])
    count, found, _ = search(api, directory, limit=2, offset=3)
    assert (count, found) == (4, ["david"])
    count, found, _ = search(api, directory, specialty="cardiology", limit=1)
    assert (count, found) == (2, ["ana"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "abc"}, "near"),
        ({"near": "38.7"}, "near"),
        ({"near": "95,10"}, "near"),
        ({"sort": "distance"}, "sort"),
        ({"sort": "price"}, "sort"),
        ({"mode": "phone"}, "mode"),
        ({"limit": "101"}, "limit"),
        ({"max_fee": "cheap"}, "max_fee"),
        ({"available_before": "soon"}, "available_before"),
    ],
)
def test_bad_search_input_is_400_in_the_error_shape(
    api: Api, directory: Directory, params: dict[str, str], field: str
) -> None:
    response = api.get(f"/api/doctors/?{urlencode(params)}")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert isinstance(error["message"], str)
    assert list(error["fields"]) == [field]


# ------------------------------------------------------------------ the doctor's page


def test_doctor_detail(api: Api, directory: Directory) -> None:
    # given
    complete_and_review(directory.ana, 4, "Joao", "Pereira")
    complete_and_review(directory.ana, 5, "Maria", "Silva")
    # when
    response = api.get(f"/api/doctors/{directory.ana.id}/")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(directory.ana.id)
    assert body["name"] == "Dr Ana Sousa"
    assert body["center"]["name"] == "Lisbon Heart"
    assert body["center"]["address"] == "Avenida da Liberdade 10"
    assert body["center"]["timezone"] == "Europe/Lisbon"
    assert body["specialties"] == [{"slug": "cardiology", "name": "Cardiology"}]
    assert body["fees"]["online"] == {"amount": "30.00", "currency": "USD"}
    assert body["fees"]["in_person"] == {"amount": "60.00", "currency": "USD"}
    assert body["modes"] == ["online", "in_person"]
    assert body["bio"] == "Ana has practised for years."
    assert body["license_number"] == "LIC-SOUSA"
    assert body["rating"] == {"average": "4.50", "count": 2}
    assert [(r["author"], r["rating"], r["text"]) for r in body["reviews"]] == [
        ("Maria S.", 5, "5 stars"),
        ("Joao P.", 4, "4 stars"),
    ]
    assert body["next_available"]["start"] == "2026-06-01T09:00:00Z"


def test_unknown_or_inactive_doctor_is_404(api: Api, directory: Directory) -> None:
    User.objects.filter(id=directory.david.user_id).update(is_active=False)
    for doctor_id in ("00000000-0000-0000-0000-000000000000", str(directory.david.id)):
        response = api.get(f"/api/doctors/{doctor_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert "david" not in names(api, directory)


# ------------------------------------------------------------------ slots


def slots(api: Api, doctor: DoctorProfile, **params: Any) -> Any:
    return api.get(f"/api/doctors/{doctor.id}/slots/?{urlencode(params)}")


def test_slots_between_from_and_to(api: Api, directory: Directory) -> None:
    response = slots(
        api,
        directory.ana,
        **{"from": "2026-06-02T08:30:00Z", "to": "2026-06-02T10:00:00Z"},
    )
    assert response.status_code == 200, response.content
    assert [(s["start"], s["end"], s["mode"], s["held_for_you"]) for s in response.json()] == [
        ("2026-06-02T08:30:00Z", "2026-06-02T09:00:00Z", "both", False),
        ("2026-06-02T09:00:00Z", "2026-06-02T09:30:00Z", "both", False),
        ("2026-06-02T09:30:00Z", "2026-06-02T10:00:00Z", "both", False),
    ]


def test_slots_default_to_the_next_seven_days(api: Api, directory: Directory) -> None:
    response = slots(api, directory.ana)
    starts = [datetime.fromisoformat(s["start"]) for s in response.json()]
    assert len(starts) == 7 * 6
    assert min(starts) == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert max(starts) < NOW + timedelta(days=7)


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("2026-06-01T00:00:00Z", "2026-08-02T00:00:00Z", 200),  # 62 days
        ("2026-06-01T00:00:00Z", "2026-08-02T00:00:01Z", 400),
        ("2026-06-02T00:00:00Z", "2026-06-01T00:00:00Z", 400),
        ("yesterday", "2026-06-01T00:00:00Z", 400),
    ],
)
def test_slot_range_is_capped_at_62_days(
    api: Api, directory: Directory, start: str, end: str, status: int
) -> None:
    response = slots(api, directory.ana, **{"from": start, "to": end})
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["error"]["code"] == "invalid"


def test_booked_and_held_slots_are_not_listed_except_to_the_holder(
    api: Api, make_api: Any, directory: Directory
) -> None:
    # given: 09:00 is booked, 09:30 is held for a waitlisted patient
    day = date(2026, 6, 2)
    booked = Slot.objects.get(doctor=directory.ana, start=lisbon(day, 9))
    held = Slot.objects.get(doctor=directory.ana, start=lisbon(day, 9, 30))
    services.book_slot(actor=make_patient(), slot_id=booked.id, mode="online")
    waiting = make_patient()
    services.place_hold(
        slot_id=held.id, patient=waiting, purpose=Hold.Purpose.WAITLIST_OFFER, minutes=15
    )
    window = {"from": "2026-06-02T08:00:00Z", "to": "2026-06-02T09:30:00Z"}
    # when / then: the public sees neither
    public = [s["start"] for s in slots(api, directory.ana, **window).json()]
    assert public == ["2026-06-02T09:00:00Z"]
    # the patient it is held for sees it, marked
    mine = slots(signed_in(make_api(), waiting), directory.ana, **window).json()
    assert [(s["start"], s["held_for_you"]) for s in mine] == [
        ("2026-06-02T08:30:00Z", True),
        ("2026-06-02T09:00:00Z", False),
    ]
    # and when the hold lapses it is free again for everyone
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        public = [s["start"] for s in slots(api, directory.ana, **window).json()]
    assert public == ["2026-06-02T08:30:00Z", "2026-06-02T09:00:00Z"]
    assert Appointment.objects.filter(slot=held).count() == 0


def test_slots_outside_the_booking_window_are_not_listed(api: Api) -> None:
    # given: 170 minutes' notice and two days' horizon, at 07:00 Lisbon time
    doctor = make_doctor()
    publish_rule(doctor, min_notice_minutes=170, booking_horizon_days=2)
    profile = DoctorProfile.objects.get(user=doctor)
    # when
    listed = slots(
        api, profile, **{"from": "2026-06-01T00:00:00Z", "to": "2026-06-06T00:00:00Z"}
    ).json()
    # then: from 10:00 today (09:30 is too soon) to Tuesday (Wednesday is too far ahead)
    starts = [datetime.fromisoformat(s["start"]) for s in listed]
    assert min(starts) == lisbon(date(2026, 6, 1), 10)
    assert max(starts) == lisbon(date(2026, 6, 2), 11, 30)
    assert max(starts) <= NOW + timedelta(days=2)
    assert Slot.objects.filter(doctor=profile, start__gt=NOW + timedelta(days=2)).exists()
    assert Slot.objects.filter(doctor=profile, start=lisbon(date(2026, 6, 1), 9)).exists()
