"""Slots keep the center's wall-clock times across daylight-saving changes, and no slot is
made at a wall time that does not exist (spring forward) or twice (autumn back)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Slot
from careconnect.accounts.models import DoctorProfile, User
from tests.booking.conftest import publish_rule
from tests.conftest import Api
from tests.factories import make_center, make_doctor

pytestmark = pytest.mark.django_db

LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")
MORNING = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def doctor_in(zone: ZoneInfo, **center: Any) -> User:
    return make_doctor(center=make_center(timezone=zone.key, **center))


def week_of_slots(api: Api, doctor: User, zone: ZoneInfo, first: date) -> dict[date, list[Any]]:
    """The public slot list for 7 local days from `first`, grouped by local date."""
    profile = DoctorProfile.objects.get(user=doctor)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(first + timedelta(days=7), time(0), tzinfo=zone)
    query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    response = api.get(f"/api/doctors/{profile.id}/slots/?{query}")
    assert response.status_code == 200, response.content
    by_day: dict[date, list[Any]] = {}
    for slot in response.json():
        local = datetime.fromisoformat(slot["start"]).astimezone(zone)
        by_day.setdefault(local.date(), []).append(local)
    return by_day


def wall_times(starts: list[datetime]) -> list[str]:
    return [f"{s:%H:%M}" for s in starts]


def exists(wall: datetime) -> bool:
    """Whether a naive wall-clock time exists in `zone` (is not in a spring-forward gap)."""
    zone = wall.tzinfo
    assert zone is not None
    return wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None)


def test_europe_autumn_change_keeps_morning_slots_at_nine_local(api: Api) -> None:
    # given: Lisbon leaves summer time on Sunday 2026-10-25; it is the Thursday before
    with time_machine.travel(datetime(2026, 10, 22, 10, 0, tzinfo=UTC), tick=False):
        doctor = doctor_in(LISBON)
        # when: every day 09:00-12:00 is published
        publish_rule(doctor)
        week = week_of_slots(api, doctor, LISBON, date(2026, 10, 23))
    # then: every day of the week has 09:00 ... 11:30 local
    assert sorted(week) == [date(2026, 10, 23) + timedelta(days=n) for n in range(7)]
    assert {day: wall_times(starts) for day, starts in week.items()} == dict.fromkeys(week, MORNING)
    # and the instants moved: 09:00 is 08:00 UTC before the change and 09:00 UTC after
    offsets = {day: starts[0].utcoffset() for day, starts in week.items()}
    assert offsets[date(2026, 10, 24)] == timedelta(hours=1)
    assert offsets[date(2026, 10, 25)] == timedelta(0)
    assert offsets[date(2026, 10, 29)] == timedelta(0)
    saturday, sunday = week[date(2026, 10, 24)][0], week[date(2026, 10, 25)][0]
    assert sunday.astimezone(UTC) - saturday.astimezone(UTC) == timedelta(hours=25)


def test_us_spring_change_keeps_morning_slots_at_nine_local(api: Api) -> None:
    # given: New York springs forward on Sunday 2027-03-14; it is the Wednesday before
    with time_machine.travel(datetime(2027, 3, 10, 15, 0, tzinfo=UTC), tick=False):
        doctor = doctor_in(NEW_YORK, city="New York")
        # when
        publish_rule(doctor)
        week = week_of_slots(api, doctor, NEW_YORK, date(2027, 3, 11))
    # then
    assert sorted(week) == [date(2027, 3, 11) + timedelta(days=n) for n in range(7)]
    assert {day: wall_times(starts) for day, starts in week.items()} == dict.fromkeys(week, MORNING)
    assert week[date(2027, 3, 13)][0].utcoffset() == timedelta(hours=-5)
    assert week[date(2027, 3, 14)][0].utcoffset() == timedelta(hours=-4)
    saturday, sunday = week[date(2027, 3, 13)][0], week[date(2027, 3, 14)][0]
    assert sunday.astimezone(UTC) - saturday.astimezone(UTC) == timedelta(hours=23)
    assert {s.astimezone(UTC).hour for s in week[date(2027, 3, 15)]} == {13, 14, 15}


def _slots_on(doctor: User, zone: ZoneInfo, day: date) -> list[Slot]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return list(
        Slot.objects.filter(doctor__user=doctor, start__gte=start, start__lt=end).order_by("start")
    )


@pytest.mark.parametrize(
    ("zone", "today", "change_day", "opening", "closing", "expected"),
    [
        # Lisbon: 01:00 WET becomes 02:00 WEST; 01:00-01:59 never happen.
        (
            LISBON,
            datetime(2027, 3, 25, 12, 0, tzinfo=UTC),
            date(2027, 3, 28),
            time(0, 0),
            time(3, 0),
            ["00:00", "00:30", "02:00", "02:30"],
        ),
        # New York: 02:00 EST becomes 03:00 EDT; 02:00-02:59 never happen.
        (
            NEW_YORK,
            datetime(2027, 3, 10, 15, 0, tzinfo=UTC),
            date(2027, 3, 14),
            time(1, 0),
            time(3, 30),
            ["01:00", "01:30", "03:00"],
        ),
    ],
)
def test_rule_across_the_spring_forward_gap_makes_no_slot_at_a_missing_time(
    zone: ZoneInfo,
    today: datetime,
    change_day: date,
    opening: time,
    closing: time,
    expected: list[str],
) -> None:
    # given: it is a few days before the change
    with time_machine.travel(today, tick=False):
        doctor = doctor_in(zone)
        # when: a rule covers the gap on the day of the change only
        publish_rule(
            doctor,
            weekdays=[7],
            start_time=opening,
            end_time=closing,
            effective_from=change_day,
            effective_until=change_day,
        )
    # then: only wall times that exist get a slot, each slot lasts 30 real minutes
    slots = _slots_on(doctor, zone, change_day)
    starts = [s.start.astimezone(zone) for s in slots]
    assert wall_times(starts) == expected
    assert all(exists(start) for start in starts)
    assert {s.end - s.start for s in slots} == {timedelta(minutes=30)}
    assert all(a.end <= b.start for a, b in pairwise(slots))


def test_rule_across_the_autumn_overlap_makes_each_slot_once_and_thirty_minutes_long() -> None:
    # given: Lisbon's 01:00-01:59 happens twice on 2026-10-25 (WEST, then WET)
    with time_machine.travel(datetime(2026, 10, 22, 10, 0, tzinfo=UTC), tick=False):
        doctor = doctor_in(LISBON)
        # when
        publish_rule(
            doctor,
            weekdays=[7],
            start_time=time(0, 0),
            end_time=time(3, 0),
            effective_from=date(2026, 10, 25),
            effective_until=date(2026, 10, 25),
        )
    # then: the repeated hour is offered once (its first occurrence), no slot is stretched
    # over the hour the clocks went back, and no two slots overlap
    slots = _slots_on(doctor, LISBON, date(2026, 10, 25))
    starts = [s.start.astimezone(LISBON) for s in slots]
    assert wall_times(starts) == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    assert [s.utcoffset() for s in starts[:4]] == [timedelta(hours=1)] * 4
    assert {s.end - s.start for s in slots} == {timedelta(minutes=30)}
    assert all(a.end <= b.start for a, b in pairwise(slots))


def test_slots_after_the_gap_never_overlap_the_slot_before_it() -> None:
    # given: 45-minute slots from midnight on Lisbon's spring-forward day; 00:45 WET runs
    # until 02:30 WEST, so the wall-clock 02:15 start would begin inside it
    with time_machine.travel(datetime(2027, 3, 25, 12, 0, tzinfo=UTC), tick=False):
        doctor = doctor_in(LISBON)
        # when
        publish_rule(
            doctor,
            weekdays=[7],
            start_time=time(0, 0),
            end_time=time(4, 0),
            slot_minutes=45,
            effective_from=date(2027, 3, 28),
            effective_until=date(2027, 3, 28),
        )
    # then
    slots = _slots_on(doctor, LISBON, date(2027, 3, 28))
    assert wall_times([s.start.astimezone(LISBON) for s in slots]) == ["00:00", "00:45", "03:00"]
    assert {s.end - s.start for s in slots} == {timedelta(minutes=45)}
    assert all(a.end <= b.start for a, b in pairwise(slots))
