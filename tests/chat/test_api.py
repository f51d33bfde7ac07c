"""Chat over REST: the inbox (order, unread counts, filters), conversation detail with read and
delivered cursors and presence, opening doctor and care-team conversations, history and its
ownership, editing and deleting, chat settings and a center's expected reply time."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from booking import services as booking_services
from careconnect.accounts.models import CareRelationship, Role
from careconnect.accounts.services import revoke_grant
from careconnect.audit.models import AuditEvent
from chat import presence, services
from chat.models import Conversation
from tests.booking.conftest import free_slots_of
from tests.chat.conftest import Chat, make_chat, make_grant
from tests.conftest import Api, signed_in
from tests.factories import make_center, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db


def _send(chat: Chat, actor: Any, body: str) -> Any:
    return services.send_text(conversation_id=chat.conversation.id, actor=actor, body=body)


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# ------------------------------------------------------------------ the inbox


def test_inbox_is_ordered_by_last_activity_with_unread_counts(api: Api) -> None:
    # given: one doctor, two patients; the older conversation gets the latest message
    first = make_chat()
    second_patient = make_patient()
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        booking_services.book_slot(
            actor=second_patient, slot_id=free_slots_of(first.doctor)[0].id, mode="online"
        )
    second = Conversation.objects.get(patient=second_patient)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        _send(first, first.patient, "one")
        _send(first, first.patient, "two")
        _send(first, first.doctor, "mine")  # the doctor's own messages are never unread
    services.mark_read(conversation_id=first.conversation.id, actor=first.doctor, seq=2)
    # when
    inbox = signed_in(api, first.doctor).get("/api/conversations/").json()
    # then: newest activity first; unread = others' messages after my read cursor
    assert [c["id"] for c in inbox] == [str(first.conversation.id), str(second.id)]
    assert [c["unread"] for c in inbox] == [1, 1]  # "two"; the other's booking card
    assert inbox[0]["read_seq"] == 2
    assert inbox[0]["doctor"]["name"] == f"Dr {first.doctor.full_name}"
    unread = api.get("/api/conversations/?filter=unread").json()
    assert len(unread) == 2
    services.mark_read(conversation_id=second.id, actor=first.doctor, seq=1)
    unread = api.get("/api/conversations/?filter=unread").json()
    assert [c["id"] for c in unread] == [str(first.conversation.id)]
    mine = api.get(f"/api/conversations/?patient={second_patient.id}").json()
    assert [c["id"] for c in mine] == [str(second.id)]
    assert api.get("/api/conversations/?filter=care_team").json() == []
    assert _code(api.get("/api/conversations/?filter=everything")) == "invalid"


def test_conversation_detail_shows_cursors_and_presence_of_participants(api: Api) -> None:
    chat = make_chat()
    _send(chat, chat.doctor, "hello")
    services.mark_delivered(conversation_id=chat.conversation.id, actor=chat.patient, seq=2)
    presence.socket_opened(chat.doctor.id)
    detail = signed_in(api, chat.patient).get(f"/api/conversations/{chat.conversation.id}/")
    assert detail.status_code == 200
    by_role = {p["role"]: p for p in detail.json()["participants"]}
    assert by_role["patient"]["delivered_seq"] == 2
    assert by_role["patient"]["read_seq"] == 0
    assert by_role["doctor"]["online"] is True
    assert by_role["doctor"]["name"] == f"Dr {chat.doctor.full_name}"
    # a doctor who hides their presence shows neither online nor last seen
    assert signed_in(api, chat.doctor).patch(
        "/api/chat/settings/", {"show_presence": False}
    ).json() == {"show_presence": False}
    detail = signed_in(api, chat.patient).get(f"/api/conversations/{chat.conversation.id}/")
    doctor = next(p for p in detail.json()["participants"] if p["role"] == "doctor")
    assert (doctor["online"], doctor["last_seen"]) == (None, None)


def test_detail_of_someone_elses_conversation_is_404(api: Api) -> None:
    chat = make_chat()
    response = signed_in(api, make_patient()).get(f"/api/conversations/{chat.conversation.id}/")
    assert response.status_code == 404
    assert api.get(f"/api/conversations/{uuid.uuid4()}/").json() == response.json()


# ------------------------------------------------------------------ opening conversations


def test_opening_the_doctor_conversation_again_returns_it(api: Api) -> None:
    chat = make_chat()
    doctor_id = str(chat.conversation.doctor_id)
    again = signed_in(api, chat.patient).post("/api/conversations/", {"doctor": doctor_id})
    assert again.status_code == 200
    assert again.json()["id"] == str(chat.conversation.id)
    stranger_doctor = make_doctor()
    refused = api.post("/api/conversations/", {"doctor": str(stranger_doctor.doctor_profile.id)})
    assert (refused.status_code, _code(refused)) == (403, "no_care_relationship")
    both = api.post("/api/conversations/", {"doctor": doctor_id, "center": str(uuid.uuid4())})
    assert both.status_code == 400


def test_a_doctor_opens_the_conversation_with_their_patient(api: Api) -> None:
    doctor = make_doctor()
    patient = make_patient()
    CareRelationship.objects.create(patient=patient, clinician=doctor)
    body = {"doctor": str(doctor.doctor_profile.id), "patient": str(patient.id)}
    created = signed_in(api, doctor).post("/api/conversations/", body)
    assert created.status_code == 201
    assert {p["role"] for p in created.json()["participants"]} == {"patient", "doctor"}
    other = {**body, "patient": str(make_patient().id)}
    assert api.post("/api/conversations/", other).status_code == 404


def test_care_team_conversation_with_the_centers_staff_and_its_reply_time(
    make_api: Callable[[], Api],
) -> None:
    # given: a patient cared for by a doctor of a center with a nurse and an admin
    chat = make_chat()
    center = chat.conversation.center
    nurse = make_staff(role=Role.NURSE, center=center)
    admin = make_staff(role=Role.CENTER_ADMIN, center=center)
    outsider = make_doctor()  # another center
    patient_api, nurse_api, admin_api, outsider_api = (make_api() for _ in range(4))
    signed_in(patient_api, chat.patient)
    signed_in(nurse_api, nurse)
    signed_in(admin_api, admin)
    signed_in(outsider_api, outsider)
    # when: the admin sets the reply time, the patient opens the care-team conversation
    settings_url = f"/api/centers/{center.id}/chat-settings/"
    reply = {"expected_reply": "Replies within 1 business day"}
    assert admin_api.patch(settings_url, reply).json() == {"center": str(center.id), **reply}
    assert nurse_api.patch(settings_url, reply).status_code == 403
    opened = patient_api.post("/api/conversations/", {"center": str(center.id)})
    assert opened.status_code == 201
    conversation = opened.json()
    assert conversation["kind"] == "care_team"
    assert conversation["doctor"] is None
    assert conversation["expected_reply"] == "Replies within 1 business day"
    assert patient_api.post("/api/conversations/", {"center": str(center.id)}).status_code == 200
    # then: the nurse sees it in the care-team inbox and answers; outsiders get 404
    url = f"/api/conversations/{conversation['id']}/messages/"
    team = nurse_api.get("/api/conversations/?filter=care_team").json()
    assert [c["id"] for c in team] == [conversation["id"]]
    answer = nurse_api.post(url, {"client_id": str(uuid.uuid4()), "body": "How can we help?"})
    assert answer.status_code == 201
    assert [m["body"] for m in patient_api.get(url).json()] == ["How can we help?"]
    assert outsider_api.get(url).status_code == 404
    assert admin_api.get(url).status_code == 200
    assert patient_api.get(settings_url).json()["expected_reply"] == reply["expected_reply"]


def test_care_team_conversations_need_a_care_relationship_at_that_center(api: Api) -> None:
    center = make_center()
    make_doctor(center=center)
    patient = make_patient()
    refused = signed_in(api, patient).post("/api/conversations/", {"center": str(center.id)})
    assert (refused.status_code, _code(refused)) == (403, "no_care_relationship")
    nurse = make_staff(role=Role.NURSE, center=center)
    staff = signed_in(api, nurse)
    assert staff.post("/api/conversations/", {"center": str(center.id)}).status_code == 400
    unknown = staff.post(
        "/api/conversations/", {"center": str(center.id), "patient": str(patient.id)}
    )
    assert unknown.status_code == 404


# ------------------------------------------------------------------ history and its owners


def test_history_pages_backwards_newest_last(api: Api) -> None:
    chat = make_chat()
    for n in range(5):
        _send(chat, chat.doctor, f"m{n}")
    url = f"/api/conversations/{chat.conversation.id}/messages/"
    page = signed_in(api, chat.patient).get(f"{url}?limit=2").json()
    assert [m["seq"] for m in page] == [5, 6]
    older = api.get(f"{url}?limit=2&before_seq=5").json()
    assert [m["body"] for m in older] == ["m1", "m2"]


def test_history_is_404_for_strangers_200_for_family_with_message_scope_until_revoked(
    make_api: Callable[[], Api],
) -> None:
    chat = make_chat()
    _send(chat, chat.doctor, "private words")
    url = f"/api/conversations/{chat.conversation.id}/messages/"
    family, other_doctor, booker = make_patient(), make_doctor(), make_patient()
    grant = make_grant(chat.patient, family, ["message"])
    make_grant(chat.patient, booker, ["book", "pay"])
    family_api, doctor_api, booker_api, stranger_api = (make_api() for _ in range(4))
    signed_in(family_api, family)
    signed_in(doctor_api, other_doctor)
    signed_in(booker_api, booker)
    signed_in(stranger_api, make_patient())
    assert stranger_api.get(url).status_code == 404
    assert doctor_api.get(url).status_code == 404
    assert booker_api.get(url).status_code == 404  # a proxy without `message`
    allowed = family_api.get(url)
    assert allowed.status_code == 200
    assert "private words" in [m.get("body") for m in allowed.json()]
    event = AuditEvent.objects.filter(action="chat.history.read", actor=family).get()
    assert (event.patient, event.acting_for) == (chat.patient, chat.patient)
    # the family member writes for the patient
    sent = family_api.post(url, {"client_id": str(uuid.uuid4()), "body": "Mum asks: fasting?"})
    assert sent.json()["acting_for"] == str(chat.patient.id)
    revoke_grant(patient=chat.patient, grant_id=grant.id)
    assert family_api.get(url).status_code == 404  # the very next request
    assert family_api.get("/api/conversations/").json() == []


# ------------------------------------------------------------------ edit and delete over REST


def test_edit_and_delete_over_rest(api: Api) -> None:
    chat = make_chat()
    url = f"/api/conversations/{chat.conversation.id}/messages/"
    sent = signed_in(api, chat.patient).post(url, {"client_id": str(uuid.uuid4()), "body": "a"})
    message_url = f"{url}{sent.json()['id']}/"
    edited = api.patch(message_url, {"body": "b"})
    assert (edited.status_code, edited.json()["body"]) == (200, "b")
    too_long = api.patch(message_url, {"body": "z" * 10_001})
    assert (too_long.status_code, _code(too_long)) == (400, "too_long")
    deleted = api.request("delete", message_url)
    assert (deleted.json()["deleted"], deleted.json()["body"]) == (True, "")
    assert _code(api.patch(message_url, {"body": "c"})) == "not_editable"
    other = make_chat()
    wrong_conversation = f"/api/conversations/{other.conversation.id}/messages/{sent.json()['id']}/"
    assert api.patch(wrong_conversation, {"body": "x"}).status_code == 404


def test_chat_settings_default_to_showing_presence(api: Api) -> None:
    signed_in(api, make_patient())
    assert api.get("/api/chat/settings/").json() == {"show_presence": True}
    assert api.patch("/api/chat/settings/", {"show_presence": "maybe"}).status_code == 400
