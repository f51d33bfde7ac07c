"""The Notifications REST API (API.md), through the browser-like client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from booking import reminders
from booking.models import Appointment
from careconnect.accounts.models import RoleAssignment, User
from careconnect.notifications import services
from careconnect.notifications.models import Notification
from tests.careconnect.notifications.conftest import PHONE, book, code_from
from tests.conftest import Api, signed_in
from tests.factories import make_patient, make_staff


def _token(appointment: Appointment, purpose: str) -> str:
    row = Notification.objects.filter(
        recipient=appointment.patient, channel="in_app", event="reminder"
    ).first()
    assert row is not None
    label = {"appointment.confirm": "Confirm", "appointment.cancel": "Cancel",
             "appointment.reschedule": "Reschedule"}[purpose]  # fmt: skip
    url: str = next(a["url"] for a in row.actions if a["label"] == label)
    return urlsplit(url).path.rsplit("/", 1)[-1]


# ------------------------------------------------------------------ inbox


def test_inbox_lists_in_app_notifications_newest_first(api: Api, reminded: Appointment) -> None:
    signed_in(api, reminded.patient)
    response = api.get("/api/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert body["unread"] == len(body["results"]) >= 1
    times = [r["created_at"] for r in body["results"]]
    assert times == sorted(times, reverse=True)
    item = next(r for r in body["results"] if r["event"] == "reminder")
    assert item["kind"] == "appointment_reminder"
    assert item["event"] == "reminder"
    assert [a["label"] for a in item["actions"]] == ["Confirm", "Reschedule", "Cancel"]
    assert item["read_at"] is None
    assert set(item) == {"id", "kind", "event", "title", "body", "link", "actions",
                         "created_at", "read_at"}  # fmt: skip


def test_inbox_needs_sign_in(api: Api) -> None:
    assert api.get("/api/notifications/").status_code == 401


def test_mark_read_some_and_all(api: Api, reminded: Appointment) -> None:
    signed_in(api, reminded.patient)
    body = api.get("/api/notifications/").json()
    unread = body["unread"]
    item = next(r for r in body["results"] if r["event"] == "reminder")
    assert api.post("/api/notifications/read/", {"ids": []}).json() == {"unread": unread}
    after = api.post("/api/notifications/read/", {"ids": [item["id"]]}).json()
    assert after == {"unread": unread - 1}
    again = api.get("/api/notifications/").json()["results"]
    assert next(r for r in again if r["id"] == item["id"])["read_at"] is not None
    assert api.post("/api/notifications/read/", {}).json() == {"unread": 0}


def test_mark_read_refuses_bad_ids(api: Api, patient: User) -> None:
    signed_in(api, patient)
    response = api.post("/api/notifications/read/", {"ids": ["nope"]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert api.post("/api/notifications/read/", {"other": 1}).status_code == 400


# ------------------------------------------------------------------ preferences and phone


def test_preferences_default_and_patch(api: Api, patient: User) -> None:
    signed_in(api, patient)
    body = api.get("/api/notifications/preferences/").json()
    reminder = next(k for k in body["kinds"] if k["kind"] == "appointment_reminder")
    assert reminder == {"kind": "appointment_reminder", "label": "Appointment reminders",
                        "email": True, "sms": False, "in_app": True}  # fmt: skip
    assert body["quiet_hours"] is None
    assert body["sms"] == {"number_last4": "", "verified": False}
    response = api.patch(
        "/api/notifications/preferences/",
        {
            "kinds": {"message": {"email": False}},
            "timezone": "Europe/Lisbon",
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert next(k for k in body["kinds"] if k["kind"] == "message")["email"] is False
    assert body["timezone"] == "Europe/Lisbon"
    assert body["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    cleared = api.patch("/api/notifications/preferences/", {"quiet_hours": None}).json()
    assert cleared["quiet_hours"] is None
    assert cleared["timezone"] == "Europe/Lisbon"


@pytest.mark.parametrize(
    "body",
    [
        {"kinds": {"nonsense": {"email": True}}},
        {"kinds": {"message": {"pigeon": True}}},
        {"timezone": "Mars/Olympus"},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "07:00", "end": "07:00"}},
        {"colour": "blue"},
    ],
)
def test_preferences_refuse_bad_input(api: Api, patient: User, body: dict[str, Any]) -> None:
    signed_in(api, patient)
    response = api.patch("/api/notifications/preferences/", body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


def test_sms_needs_a_verified_number(api: Api, patient: User) -> None:
    signed_in(api, patient)
    response = api.patch("/api/notifications/preferences/", {"kinds": {"booking": {"sms": True}}})
    assert response.status_code == 400
    assert "sms" in response.json()["error"]["fields"]


def test_phone_verification_then_sms_on(api: Api, patient: User, sms_dir: Path) -> None:
    signed_in(api, patient)
    response = api.post("/api/notifications/phone/", {"phone": "+351 912 345 678"})
    assert response.status_code == 202, response.content
    assert response.json()["sent"] is True
    assert response.json()["expires_at"]
    wrong = api.post("/api/notifications/phone/confirm/", {"code": "000000"})
    code = code_from(sms_dir)
    if code != "000000":
        assert wrong.status_code == 400
        assert wrong.json()["error"]["code"] == "code_invalid"
    response = api.post("/api/notifications/phone/confirm/", {"code": code})
    assert response.status_code == 200, response.content
    assert response.json()["sms"] == {"number_last4": PHONE[-4:], "verified": True}
    on = api.patch("/api/notifications/preferences/", {"kinds": {"booking": {"sms": True}}})
    assert on.status_code == 200
    assert next(k for k in on.json()["kinds"] if k["kind"] == "booking")["sms"] is True


@pytest.mark.parametrize("phone", ["12345", "not a number", "+0123456789"])
def test_phone_refuses_bad_numbers(api: Api, patient: User, phone: str) -> None:
    signed_in(api, patient)
    response = api.post("/api/notifications/phone/", {"phone": phone})
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]


def test_phone_confirm_refuses_malformed_code(api: Api, patient: User) -> None:
    signed_in(api, patient)
    assert api.post("/api/notifications/phone/confirm/", {"code": "12"}).status_code == 400
    assert api.post("/api/notifications/phone/confirm/", {"code": "123456"}).status_code == 400


def test_phone_verification_is_throttled(api: Api, patient: User, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "phone_verify": "2/hour"}
    signed_in(api, patient)
    for _ in range(2):
        assert api.post("/api/notifications/phone/", {"phone": PHONE}).status_code == 202
    response = api.post("/api/notifications/phone/", {"phone": PHONE})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


# ------------------------------------------------------------------ one-tap links


def test_link_read_then_confirm_signed_out(api: Api, reminded: Appointment) -> None:
    token = _token(reminded, "appointment.confirm")
    read = api.get(f"/api/notifications/links/{token}/")
    assert read.status_code == 200
    assert read.json()["purpose"] == "appointment.confirm"
    assert read.json()["expires_at"]
    reminded.refresh_from_db()
    assert reminded.attendance_confirmed_at is None  # reading changes nothing
    used = api.post(f"/api/notifications/links/{token}/")
    assert used.status_code == 200, used.content
    assert used.json()["purpose"] == "appointment.confirm"
    assert "confirmed" in used.json()["message"]
    reminded.refresh_from_db()
    assert reminded.attendance_confirmed_via == "link"
    again = api.post(f"/api/notifications/links/{token}/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "link_used"
    reopened = api.get(f"/api/notifications/links/{token}/")  # said on opening, before asking
    assert reopened.status_code == 409
    assert reopened.json()["error"]["code"] == "link_used"


def test_link_reschedule_redirects_for_the_signed_in_recipient(
    api: Api, reminded: Appointment
) -> None:
    signed_in(api, reminded.patient)
    token = _token(reminded, "appointment.reschedule")
    body = api.post(f"/api/notifications/links/{token}/").json()
    assert body["redirect"] == f"/appointments?reschedule={reminded.id}"


def test_link_cancel_cancels(api: Api, reminded: Appointment) -> None:
    token = _token(reminded, "appointment.cancel")
    assert api.post(f"/api/notifications/links/{token}/").status_code == 200
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CANCELLED


def test_link_of_someone_else_is_not_found(api: Api, reminded: Appointment) -> None:
    signed_in(api, make_patient())
    token = _token(reminded, "appointment.cancel")
    assert api.get(f"/api/notifications/links/{token}/").status_code == 404
    assert api.post(f"/api/notifications/links/{token}/").status_code == 404
    reminded.refresh_from_db()
    assert reminded.status == Appointment.Status.CONFIRMED


def test_expired_link(api: Api, sms_patient: User) -> None:
    appointment = book(sms_patient)
    url = services.make_link(
        purpose="appointment.confirm",
        recipient=sms_patient,
        subject_id=appointment.id,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    token = url.rsplit("/", 1)[-1]
    for method in (api.get, api.post):
        response = method(f"/api/notifications/links/{token}/")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "link_expired"


def test_bad_link(api: Api, db: None) -> None:
    for method in (api.get, api.post):
        response = method("/api/notifications/links/not-a-token/")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_token"


# ------------------------------------------------------------------ delivery log


def test_center_admin_sees_the_delivery_log(api: Api, reminded: Appointment) -> None:
    center = reminded.doctor.center
    admin = make_staff(role="center_admin", center=center)
    signed_in(api, admin)
    body = api.get(f"/api/notifications/log/?center={center.id}").json()
    assert {r["channel"] for r in body["results"]} == {"email", "sms", "in_app"}
    entry = body["results"][0]
    assert set(entry) == {"id", "recipient_name", "kind", "event", "channel", "status",
                          "error", "provider_status", "created_at", "sent_at"}  # fmt: skip
    assert entry["recipient_name"] == reminded.patient.full_name
    only_sms = api.get("/api/notifications/log/?channel=sms&status=sent").json()["results"]
    assert [r["channel"] for r in only_sms] == ["sms"]


def test_delivery_log_is_for_center_admins_only(api: Api, reminded: Appointment) -> None:
    center = reminded.doctor.center
    signed_in(api, reminded.patient)
    assert api.get(f"/api/notifications/log/?center={center.id}").status_code == 403
    assert api.get("/api/notifications/log/").status_code == 403


def test_delivery_log_refuses_bad_filters(
    api: Api, center_admin: User, make_api: Callable[[], Api]
) -> None:
    signed_in(api, center_admin)
    assert api.get("/api/notifications/log/?channel=pigeon").status_code == 400
    assert api.get("/api/notifications/log/?center=nope").status_code == 400
    other = RoleAssignment.objects.get(user=center_admin)
    assert other.role == "center_admin"
    assert api.get("/api/notifications/log/").json() == {"results": []}


# ------------------------------------------------------------------ booking additions


def test_unconfirmed_list_and_policy_fields(
    api: Api, reminded: Appointment, make_api: Callable[[], Api]
) -> None:
    center = reminded.doctor.center
    admin = make_staff(role="center_admin", center=center)
    signed_in(api, admin)
    policy = api.patch(
        f"/api/centers/{center.id}/booking-policy/",
        {
            "reminder_offsets_minutes": [60, 1440, 60],
            "escalate_minutes_before": 20160,
            "release_unconfirmed": False,
        },
    )
    assert policy.status_code == 200, policy.content
    assert policy.json()["reminder_offsets_minutes"] == [1440, 60]
    assert policy.json()["escalate_minutes_before"] == 20160
    assert reminders.escalate_unconfirmed() == 0  # booked inside the window: not escalated
    Appointment.objects.filter(id=reminded.id).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    assert reminders.escalate_unconfirmed() == 1
    rows = api.get("/api/appointments/unconfirmed/").json()
    assert [r["id"] for r in rows] == [str(reminded.id)]
    assert rows[0]["escalated_at"] is not None
    assert rows[0]["attendance_confirmed_at"] is None
    assert rows[0]["attendance_confirmed_via"] == ""
    patient_api = signed_in(make_api(), reminded.patient)
    assert patient_api.get("/api/appointments/unconfirmed/").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"reminder_offsets_minutes": [0]},
        {"reminder_offsets_minutes": [20161]},
        {"reminder_offsets_minutes": [1, 2, 3, 4, 5, 6]},
        {"escalate_minutes_before": -5},
        {"release_unconfirmed": "maybe"},
    ],
)
def test_policy_refuses_bad_reminder_settings(
    api: Api, center_admin: User, body: dict[str, Any]
) -> None:
    signed_in(api, center_admin)
    center_id = RoleAssignment.objects.get(user=center_admin).center_id
    response = api.patch(f"/api/centers/{center_id}/booking-policy/", body)
    assert response.status_code == 400, response.content
