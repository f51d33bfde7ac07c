"""Schedules: rules, previews, exceptions, conflicts, buffers, the booking window and the
daily refresh, through the REST API a center admin or a doctor uses (docs/api-booking.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from booking import services
from booking.models import Appointment, AvailabilityRule, Hold, ScheduleException, Slot
from careconnect.accounts.models import DoctorProfile, Role, User
from careconnect.audit.models import AuditEvent
from tests.booking.conftest import publish_rule
from tests.conftest import Api, signed_in
from tests.factories import make_center, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db

LISBON = ZoneInfo("Europe/Lisbon")


def profile_of(doctor_user: User) -> DoctorProfile:
    return DoctorProfile.objects.select_related("center").get(user=doctor_user)


def lisbon_day(days_ahead: int) -> date:
    return timezone.now().astimezone(LISBON).date() + timedelta(days=days_ahead)


def lisbon(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LISBON)


def rule_body(doctor: DoctorProfile, **overrides: Any) -> dict[str, Any]:
    return {
        "doctor": str(doctor.id),
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_minutes": 30,
        "effective_from": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "min_notice_minutes": 0,
        "booking_horizon_days": 14,
        **overrides,
    }


def listed_slots(api: Api, doctor: DoctorProfile, start: datetime, end: datetime) -> list[Any]:
    query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    response = api.get(f"/api/doctors/{doctor.id}/slots/?{query}")
    assert response.status_code == 200, response.content
    slots: list[Any] = response.json()
    return slots


def local_times(slots: list[Any]) -> list[str]:
    return [f"{datetime.fromisoformat(s['start']).astimezone(LISBON):%H:%M}" for s in slots]


def day_slots(api: Api, doctor: DoctorProfile, day: date) -> list[Any]:
    return listed_slots(api, doctor, lisbon(day, 0), lisbon(day + timedelta(days=1), 0))


def slot_at(doctor: DoctorProfile, start: datetime) -> Slot:
    return Slot.objects.get(doctor=doctor, start=start)


def book(patient: User, doctor: DoctorProfile, start: datetime) -> Appointment:
    return services.book_slot(actor=patient, slot_id=slot_at(doctor, start).id, mode="online")


def schedule_state(doctor: DoctorProfile) -> tuple[Any, ...]:
    rules = list(AvailabilityRule.objects.filter(doctor=doctor).values().order_by("id"))
    slots = list(
        Slot.objects.filter(doctor=doctor).values_list("id", "start", "published").order_by("id")
    )
    exceptions = list(ScheduleException.objects.filter(doctor=doctor).values_list("id"))
    return rules, slots, exceptions


# ------------------------------------------------------------------ publishing


def test_doctor_publishes_a_rule_and_its_slots_become_bookable(api: Api, doctor: User) -> None:
    # given: a doctor with no availability
    profile = profile_of(doctor)
    signed_in(api, doctor)
    day = lisbon_day(2)
    assert day_slots(api, profile, day) == []
    # when
    response = api.post("/api/schedules/", rule_body(profile))
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rule"]["start_time"] == "09:00"
    assert body["rule"]["weekdays"] == [1, 2, 3, 4, 5, 6, 7]
    assert body["added"] > 0
    assert body["removed"] == 0
    assert body["conflicts"] == []
    slots = day_slots(api, profile, day)
    assert local_times(slots) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert {s["mode"] for s in slots} == {"both"}
    assert [r["id"] for r in api.get("/api/schedules/").json()] == [body["rule"]["id"]]


def test_center_admin_publishes_a_rule_for_a_doctor_of_their_center(
    api: Api, make_api: Callable[[], Api]
) -> None:
    # given
    center = make_center()
    profile = profile_of(make_doctor(center=center))
    admin = make_staff(role=Role.CENTER_ADMIN, center=center)
    signed_in(api, admin)
    # when
    response = api.post("/api/schedules/", rule_body(profile, weekdays=[1, 3]))
    # then
    assert response.status_code == 201, response.content
    rule = AvailabilityRule.objects.get(id=response.json()["rule"]["id"])
    assert (rule.doctor_id, rule.created_by_id, rule.weekdays) == (profile.id, admin.id, [1, 3])
    listed = api.get(f"/api/schedules/?doctor={profile.id}").json()
    assert [r["id"] for r in listed] == [str(rule.id)]
    monday = next(lisbon_day(n) for n in range(2, 9) if lisbon_day(n).isoweekday() == 1)
    tuesday = monday + timedelta(days=1)
    public = make_api()
    assert len(day_slots(public, profile, monday)) == 6
    assert day_slots(public, profile, tuesday) == []


def test_preview_returns_the_slots_a_rule_would_make_and_saves_nothing(
    api: Api, doctor: User
) -> None:
    # given
    profile = profile_of(doctor)
    signed_in(api, doctor)
    before = schedule_state(profile), AuditEvent.objects.count()
    # when
    response = api.post(
        "/api/schedules/preview/",
        rule_body(profile, weekdays=[2], start_time="14:00", end_time="16:00"),
    )
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["slots"]) > 0
    starts = [datetime.fromisoformat(s["start"]).astimezone(LISBON) for s in body["slots"]]
    assert {s.isoweekday() for s in starts} == {2}
    assert {f"{s:%H:%M}" for s in starts} == {"14:00", "14:30", "15:00", "15:30"}
    assert body["conflicts"] == []
    assert (schedule_state(profile), AuditEvent.objects.count()) == before


def test_preview_of_a_replacement_lists_the_appointments_it_would_leave_uncovered(
    api: Api, scheduled_doctor: User
) -> None:
    # given: a booked 09:00 slot under the every-day 09:00-12:00 rule
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    appointment = book(make_patient(), profile, lisbon(lisbon_day(2), 9))
    signed_in(api, scheduled_doctor)
    before = schedule_state(profile)
    # when: previewing the rule moved to 10:00
    response = api.post(
        "/api/schedules/preview/",
        {**rule_body(profile, start_time="10:00"), "replaces": str(rule.id)},
    )
    # then
    assert response.status_code == 200, response.content
    assert [a["id"] for a in response.json()["conflicts"]] == [str(appointment.id)]
    assert schedule_state(profile) == before


def test_overlapping_rule_is_refused_with_the_other_rule_named(
    api: Api, scheduled_doctor: User
) -> None:
    # given: every day 09:00-12:00
    profile = profile_of(scheduled_doctor)
    existing = AvailabilityRule.objects.get(doctor=profile)
    signed_in(api, scheduled_doctor)
    before = schedule_state(profile)
    # when: Wednesdays 11:00-13:00
    response = api.post(
        "/api/schedules/", rule_body(profile, weekdays=[3], start_time="11:00", end_time="13:00")
    )
    # then
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "rule_overlap"
    assert str(existing.id) in error["fields"]["rule"]
    assert schedule_state(profile) == before


def test_adjacent_rule_on_the_same_days_is_not_an_overlap(api: Api, scheduled_doctor: User) -> None:
    profile = profile_of(scheduled_doctor)
    signed_in(api, scheduled_doctor)
    response = api.post("/api/schedules/", rule_body(profile, start_time="12:00", end_time="13:00"))
    assert response.status_code == 201, response.content
    times = local_times(day_slots(api, profile, lisbon_day(2)))
    assert times == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_time": "12:00", "end_time": "09:00"}, "end_time"),
        ({"start_time": "09:00", "end_time": "09:00"}, "end_time"),
        ({"weekdays": [0]}, "weekdays"),
        ({"weekdays": [8]}, "weekdays"),
        ({"weekdays": []}, "weekdays"),
        ({"start_time": "09:00", "end_time": "09:20", "slot_minutes": 30}, "slot_minutes"),
        ({"effective_from": "2030-01-10", "effective_until": "2030-01-01"}, "effective_until"),
    ],
)
def test_invalid_rule_is_refused_with_the_field_named(
    api: Api, doctor: User, change: dict[str, Any], field: str
) -> None:
    profile = profile_of(doctor)
    signed_in(api, doctor)
    response = api.post("/api/schedules/", rule_body(profile, **change))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not AvailabilityRule.objects.filter(doctor=profile).exists()
    assert not Slot.objects.filter(doctor=profile).exists()


def test_patch_with_end_before_start_is_refused_and_keeps_the_rule(
    api: Api, scheduled_doctor: User
) -> None:
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    signed_in(api, scheduled_doctor)
    before = schedule_state(profile)
    response = api.patch(f"/api/schedules/{rule.id}/", {"end_time": "08:00"})
    assert response.status_code == 400, response.content
    assert "end_time" in response.json()["error"]["fields"]
    assert schedule_state(profile) == before


def _outsider(kind: str, center: Any) -> User:
    if kind == "nurse":
        return make_staff(role=Role.NURSE, center=center)
    if kind == "colleague":
        return make_doctor(center=center)
    if kind == "other_admin":
        return make_staff(role=Role.CENTER_ADMIN)
    return make_patient()


@pytest.mark.parametrize(
    ("kind", "status"),
    [("nurse", 403), ("colleague", 403), ("other_admin", 404), ("patient", 404)],
)
def test_only_the_doctor_and_their_center_admin_may_write_schedules(
    api: Api, scheduled_doctor: User, kind: str, status: int
) -> None:
    # given
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    exception = ScheduleException.objects.create(
        doctor=profile,
        kind=ScheduleException.Kind.TIME_OFF,
        start=lisbon(lisbon_day(30), 9),
        end=lisbon(lisbon_day(30), 12),
    )
    signed_in(api, _outsider(kind, profile.center))
    before = schedule_state(profile)
    audited = AuditEvent.objects.filter(action__startswith="schedule.").count()
    day = lisbon_day(3).isoformat()
    # when
    attempts = [
        api.post(
            "/api/schedules/",
            rule_body(profile, weekdays=[1], start_time="14:00", end_time="15:00"),
        ),
        api.post(
            "/api/schedules/preview/", rule_body(profile, start_time="14:00", end_time="15:00")
        ),
        api.patch(f"/api/schedules/{rule.id}/", {"start_time": "10:00"}),
        api.request("delete", f"/api/schedules/{rule.id}/"),
        api.post(
            "/api/schedule-exceptions/",
            {
                "doctor": str(profile.id),
                "kind": "time_off",
                "start": f"{day}T08:00:00Z",
                "end": f"{day}T12:00:00Z",
            },
        ),
        api.request("delete", f"/api/schedule-exceptions/{exception.id}/"),
    ]
    # then
    assert [r.status_code for r in attempts] == [status] * len(attempts), [
        r.content for r in attempts
    ]
    assert schedule_state(profile) == before
    assert AuditEvent.objects.filter(action__startswith="schedule.").count() == audited


# ------------------------------------------------------------------ changes and conflicts


def test_patching_a_rule_away_from_a_booked_appointment_keeps_it_and_lists_the_conflict(
    api: Api, make_api: Callable[[], Api], scheduled_doctor: User
) -> None:
    # given: a patient booked 09:00 on a day two days ahead
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    day = lisbon_day(2)
    appointment = book(make_patient(), profile, lisbon(day, 9))
    signed_in(api, scheduled_doctor)
    # when: the rule now starts at 10:00
    response = api.patch(f"/api/schedules/{rule.id}/", {"start_time": "10:00"})
    # then: the appointment stays booked and is listed for rescheduling
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rule"]["start_time"] == "10:00"
    assert str(appointment.id) in [a["id"] for a in body["conflicts"]]
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    conflicts = api.get(f"/api/schedules/conflicts/?doctor={profile.id}")
    assert [a["id"] for a in conflicts.json()] == [str(appointment.id)]
    # and its time is not offered to, nor bookable by, anyone else
    assert local_times(day_slots(make_api(), profile, day)) == ["10:00", "10:30", "11:00", "11:30"]
    other = signed_in(make_api(), make_patient())
    taken = other.post("/api/appointments/", {"slot": str(appointment.slot_id), "mode": "online"})
    assert taken.status_code == 409, taken.content  # still held by the kept appointment
    assert taken.json()["error"]["code"] == "slot_taken"
    assert Appointment.objects.filter(slot_id=appointment.slot_id).count() == 1


def test_changing_slot_length_offers_no_time_overlapping_a_booked_appointment(
    api: Api, make_api: Callable[[], Api], scheduled_doctor: User
) -> None:
    # given: 09:30-10:00 is booked
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    day = lisbon_day(2)
    appointment = book(make_patient(), profile, lisbon(day, 9, 30))
    signed_in(api, scheduled_doctor)
    # when: slots become 45 minutes long (09:00, 09:45, 10:30, 11:15)
    response = api.patch(f"/api/schedules/{rule.id}/", {"slot_minutes": 45})
    # then: the appointment is a conflict, and no free slot overlaps it
    assert response.status_code == 200, response.content
    assert [a["id"] for a in response.json()["conflicts"]] == [str(appointment.id)]
    free = day_slots(make_api(), profile, day)
    assert local_times(free) == ["10:30", "11:15"]
    for candidate in Slot.objects.filter(doctor=profile, start__date=day).exclude(
        id=appointment.slot_id
    ):
        overlaps = candidate.start < appointment.end and appointment.start < candidate.end
        assert not (overlaps and candidate.published), candidate


def test_restoring_the_rule_clears_the_conflict(api: Api, scheduled_doctor: User) -> None:
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    appointment = book(make_patient(), profile, lisbon(lisbon_day(2), 9))
    signed_in(api, scheduled_doctor)
    api.patch(f"/api/schedules/{rule.id}/", {"start_time": "10:00"})
    response = api.patch(f"/api/schedules/{rule.id}/", {"start_time": "09:00"})
    assert response.status_code == 200, response.content
    assert response.json()["conflicts"] == []
    assert api.get("/api/schedules/conflicts/").json() == []
    assert Slot.objects.get(id=appointment.slot_id).published


def test_deleting_a_rule_removes_free_slots_and_keeps_booked_ones(
    api: Api, scheduled_doctor: User
) -> None:
    # given
    profile = profile_of(scheduled_doctor)
    rule = AvailabilityRule.objects.get(doctor=profile)
    appointment = book(make_patient(), profile, lisbon(lisbon_day(2), 10))
    free_before = Slot.objects.filter(doctor=profile).count() - 1
    signed_in(api, scheduled_doctor)
    # when
    response = api.request("delete", f"/api/schedules/{rule.id}/")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rule"] is None
    assert body["removed"] == free_before
    assert [a["id"] for a in body["conflicts"]] == [str(appointment.id)]
    assert list(Slot.objects.filter(doctor=profile).values_list("id", flat=True)) == [
        appointment.slot_id
    ]
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert not AvailabilityRule.objects.filter(id=rule.id).exists()
    assert api.get(f"/api/doctors/{profile.id}/slots/").json() == []


def test_time_off_removes_free_slots_in_its_range_and_reports_conflicts(
    api: Api, scheduled_doctor: User
) -> None:
    # given: 09:30 is booked on the day the doctor takes 09:00-11:00 off
    profile = profile_of(scheduled_doctor)
    day = lisbon_day(3)
    appointment = book(make_patient(), profile, lisbon(day, 9, 30))
    signed_in(api, scheduled_doctor)
    # when
    response = api.post(
        "/api/schedule-exceptions/",
        {
            "doctor": str(profile.id),
            "kind": "time_off",
            "start": lisbon(day, 9).isoformat(),
            "end": lisbon(day, 11).isoformat(),
            "label": "Conference",
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["exception"]["kind"] == "time_off"
    assert body["removed"] == 3  # 09:00, 10:00, 10:30 were free
    assert [a["id"] for a in body["conflicts"]] == [str(appointment.id)]
    assert local_times(day_slots(api, profile, day)) == ["11:00", "11:30"]
    assert local_times(day_slots(api, profile, day + timedelta(days=1)))[0] == "09:00"
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    # and removing the time off brings the free slots back
    undo = api.request("delete", f"/api/schedule-exceptions/{body['exception']['id']}/")
    assert undo.status_code == 200, undo.content
    assert undo.json()["conflicts"] == []
    assert local_times(day_slots(api, profile, day)) == [
        "09:00",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_extra_hours_add_slots(api: Api, scheduled_doctor: User) -> None:
    # given
    profile = profile_of(scheduled_doctor)
    day = lisbon_day(4)
    signed_in(api, scheduled_doctor)
    # when: an extra online afternoon with 20-minute slots
    response = api.post(
        "/api/schedule-exceptions/",
        {
            "doctor": str(profile.id),
            "kind": "extra_hours",
            "start": lisbon(day, 14).isoformat(),
            "end": lisbon(day, 15).isoformat(),
            "mode": "online",
            "slot_minutes": 20,
        },
    )
    # then
    assert response.status_code == 201, response.content
    assert response.json()["added"] == 3
    slots = day_slots(api, profile, day)
    assert local_times(slots)[-3:] == ["14:00", "14:20", "14:40"]
    assert [s["mode"] for s in slots[-3:]] == ["online"] * 3
    listed = api.get(f"/api/schedule-exceptions/?doctor={profile.id}").json()
    assert [e["kind"] for e in listed] == ["extra_hours"]


def test_buffer_spaces_the_slot_starts(api: Api, doctor: User) -> None:
    profile = profile_of(doctor)
    signed_in(api, doctor)
    response = api.post("/api/schedules/", rule_body(profile, buffer_minutes=10))
    assert response.status_code == 201, response.content
    slots = day_slots(api, profile, lisbon_day(2))
    assert local_times(slots) == ["09:00", "09:40", "10:20", "11:00"]
    lengths = {datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"]) for s in slots}
    assert lengths == {timedelta(minutes=30)}


def test_slots_inside_the_minimum_notice_are_not_listed_nor_bookable(
    api: Api, make_api: Callable[[], Api], doctor: User
) -> None:
    # given: three days' notice
    profile = profile_of(doctor)
    publish_rule(doctor, min_notice_minutes=3 * 24 * 60)
    patient = signed_in(make_api(), make_patient())
    too_soon = slot_at(profile, lisbon(lisbon_day(1), 9))
    # when / then
    assert day_slots(api, profile, lisbon_day(1)) == []
    assert len(day_slots(api, profile, lisbon_day(4))) == 6
    response = patient.post("/api/appointments/", {"slot": str(too_soon.id), "mode": "online"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "slot_not_bookable"
    assert not Appointment.objects.exists()


def test_slots_beyond_the_booking_horizon_are_not_listed_nor_bookable(
    api: Api, make_api: Callable[[], Api], doctor: User
) -> None:
    # given: bookable three days ahead
    profile = profile_of(doctor)
    publish_rule(doctor, booking_horizon_days=3)
    patient = signed_in(make_api(), make_patient())
    horizon = timezone.now() + timedelta(days=3)
    too_far = Slot.objects.filter(doctor=profile).order_by("-start").first()
    assert too_far is not None
    assert too_far.start > horizon
    # when / then
    listed = listed_slots(api, profile, timezone.now(), timezone.now() + timedelta(days=10))
    assert listed
    assert max(datetime.fromisoformat(s["start"]) for s in listed) <= horizon
    response = patient.post("/api/appointments/", {"slot": str(too_far.id), "mode": "online"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "slot_not_bookable"
    assert not Appointment.objects.exists()


def test_every_schedule_write_is_audited(api: Api) -> None:
    # given
    center = make_center()
    profile = profile_of(make_doctor(center=center))
    admin = make_staff(role=Role.CENTER_ADMIN, center=center)
    signed_in(api, admin)
    day = lisbon_day(5)
    # when
    rule_id = api.post("/api/schedules/", rule_body(profile)).json()["rule"]["id"]
    api.patch(f"/api/schedules/{rule_id}/", {"end_time": "13:00"})
    exception_id = api.post(
        "/api/schedule-exceptions/",
        {
            "doctor": str(profile.id),
            "kind": "time_off",
            "start": lisbon(day, 9).isoformat(),
            "end": lisbon(day, 10).isoformat(),
        },
    ).json()["exception"]["id"]
    api.request("delete", f"/api/schedule-exceptions/{exception_id}/")
    api.request("delete", f"/api/schedules/{rule_id}/")
    policy = api.patch(f"/api/centers/{center.id}/booking-policy/", {"waitlist_hold_minutes": 30})
    # then
    assert policy.status_code == 200, policy.content
    events = AuditEvent.objects.filter(actor=admin).exclude(action="account.login")
    assert sorted((e.action, e.object_id) for e in events) == sorted(
        [
            ("schedule.rule.create", rule_id),
            ("schedule.rule.update", rule_id),
            ("schedule.exception.create", exception_id),
            ("schedule.exception.delete", exception_id),
            ("schedule.rule.delete", rule_id),
            ("booking.policy.update", str(center.id)),
        ]
    )


# ------------------------------------------------------------------ the daily refresh


def test_refresh_all_slots_is_idempotent(scheduled_doctor: User) -> None:
    # given: slots published, and a day later the horizon has moved on
    profile = profile_of(scheduled_doctor)
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        furthest = Slot.objects.filter(doctor=profile).order_by("-start").values("start")[0]
        # when: the beat task runs, and runs again
        services.refresh_all_slots()
        after_first = set(Slot.objects.filter(doctor=profile).values_list("id", "start", "end"))
        services.refresh_all_slots()
        after_second = set(Slot.objects.filter(doctor=profile).values_list("id", "start", "end"))
    # then: the first run extended the slots, the second changed nothing
    assert max(start for _, start, _ in after_first) > furthest["start"]
    assert after_second == after_first


def test_refresh_all_slots_keeps_booked_slots_and_holds(scheduled_doctor: User) -> None:
    profile = profile_of(scheduled_doctor)
    day = lisbon_day(2)
    appointment = book(make_patient(), profile, lisbon(day, 9))
    hold = services.place_hold(
        slot_id=slot_at(profile, lisbon(day, 10)).id,
        patient=make_patient(),
        purpose=Hold.Purpose.WAITLIST_OFFER,
        minutes=15,
    )
    before = set(Slot.objects.filter(doctor=profile).values_list("id", "start", "published"))
    services.refresh_all_slots()
    services.refresh_all_slots()
    after = set(Slot.objects.filter(doctor=profile).values_list("id", "start", "published"))
    assert after == before
    assert Appointment.objects.get(id=appointment.id).slot_id == appointment.slot_id
    assert Hold.objects.filter(id=hold.id, released_at__isnull=True).exists()


@pytest.mark.parametrize("freed_by", ["cancel", "reschedule"])
def test_time_off_withdraws_a_waitlist_offer_and_keeps_the_place_in_line(
    api: Api, scheduled_doctor: User, freed_by: str
) -> None:
    # given: 09:00 was freed and offered to the person waiting for that day
    profile = profile_of(scheduled_doctor)
    day = lisbon_day(3)
    first = make_patient()
    appointment = book(first, profile, lisbon(day, 9))
    waiting = make_patient()
    entry = services.join_waitlist(actor=waiting, doctor_id=profile.id, earliest=day, latest=day)
    if freed_by == "cancel":
        services.cancel_appointment(actor=first, appointment_id=appointment.id)
    else:
        services.reschedule_appointment(
            actor=first,
            appointment_id=appointment.id,
            slot_id=slot_at(profile, lisbon(day, 11)).id,
        )
    entry.refresh_from_db()
    assert entry.status == "offered"
    assert entry.hold is not None
    offered = entry.hold.slot_id
    # when: the doctor takes that hour off
    signed_in(api, scheduled_doctor)
    response = api.post(
        "/api/schedule-exceptions/",
        {
            "doctor": str(profile.id),
            "kind": "time_off",
            "start": lisbon(day, 9).isoformat(),
            "end": lisbon(day, 10).isoformat(),
        },
    )
    # then: the offer is withdrawn, and the patient is waiting again (not stuck "offered")
    assert response.status_code == 201, response.content
    entry.refresh_from_db()
    assert entry.status == "waiting"
    assert entry.hold_id is None
    assert not Hold.objects.filter(slot_id=offered, released_at__isnull=True).exists()


def test_exception_ending_before_it_starts_is_refused(api: Api, scheduled_doctor: User) -> None:
    profile = profile_of(scheduled_doctor)
    signed_in(api, scheduled_doctor)
    before = schedule_state(profile)
    day = lisbon_day(3)
    response = api.post(
        "/api/schedule-exceptions/",
        {
            "doctor": str(profile.id),
            "kind": "time_off",
            "start": lisbon(day, 11).isoformat(),
            "end": lisbon(day, 9).isoformat(),
        },
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert "end" in response.json()["error"]["fields"]
    assert schedule_state(profile) == before
