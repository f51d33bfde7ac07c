"""Booking's action cards through the chat consumer: offer slots → choose one, bookings and
cancellations made over REST showing up as cards, and the registry's role and payload checks
(roles parametrized over every registered action)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from booking import services as booking_services
from booking.models import Appointment, Hold, Slot
from careconnect.accounts.models import Role
from careconnect.errors import ApplicationError
from chat import services
from chat.models import CardState, Conversation, Message, ParticipantRole
from chat.registry import registered_actions
from chat.services import ActionNotAllowedError
from tests.booking.conftest import free_slots_of
from tests.chat.conftest import (
    Chat,
    action_frame,
    amake_chat,
    connect,
    disconnect,
    in_thread,
    make_chat,
    make_grant,
    receive,
)
from tests.factories import make_patient, make_staff

transactional = pytest.mark.django_db(transaction=True)


def _later_slots(chat: Chat, count: int) -> list[Slot]:
    tomorrow = timezone.now() + timedelta(days=1)
    return [s for s in free_slots_of(chat.doctor) if s.start > tomorrow][:count]


def _rest(user: Any, method: str, path: str, body: Any = None) -> Any:
    """A REST call as `user` (from a worker thread: its transaction really commits)."""
    client = Client()
    client.force_login(user)
    return getattr(client, method)(path, json.dumps(body or {}), content_type="application/json")


def _held_slots(chat: Chat) -> list[str]:
    holds = Hold.objects.filter(patient=chat.patient, released_at__isnull=True)
    return sorted(str(h.slot_id) for h in holds)


def _snapshot() -> tuple[int, int, int]:
    return Message.objects.count(), Hold.objects.count(), Appointment.objects.count()


# ------------------------------------------------------------------ through the consumer


@transactional
async def test_doctor_offers_slots_patient_chooses_one_and_both_see_the_cards_complete() -> None:
    chat = await amake_chat()
    slots = await in_thread(_later_slots)(chat, 3)
    doctor, patient = await connect(chat.doctor), await connect(chat.patient)
    # when: the doctor offers three times
    await doctor.send_json_to(
        action_frame(chat.conversation, "booking.offer_slots", slots=[str(s.id) for s in slots])
    )
    offer = (await receive(doctor, "ack"))["message"]
    assert (offer["kind"], offer["action"], offer["state"]) == (
        "action",
        "booking.offer_slots",
        "open",
    )
    assert [s["id"] for s in offer["payload"]["slots"]] == [str(s.id) for s in slots]
    assert (await receive(patient, "message.new"))["message"] == offer
    await receive(doctor, "message.new")
    held = await in_thread(_held_slots)(chat)
    assert held == sorted(str(s.id) for s in slots)
    # when: the patient picks the second
    chosen = slots[1]
    await patient.send_json_to(
        action_frame(
            chat.conversation,
            "booking.choose_slot",
            offer=offer["id"],
            slot=str(chosen.id),
            mode="online",
        )
    )
    card = (await receive(patient, "ack"))["message"]
    # then: booked, the card completed, the offer updated for both, the other holds released
    assert (card["action"], card["state"]) == ("booking.choose_slot", "completed")
    appointment = await in_thread(Appointment.objects.get)(id=card["payload"]["appointment"])
    assert (appointment.slot_id, appointment.patient_id) == (chosen.id, chat.patient.id)
    for side in (doctor, patient):
        frames = [await receive(side, "message.update", "message.new") for _ in range(2)]
        by_type = {f["type"]: f["message"] for f in frames}
        assert by_type["message.update"]["id"] == offer["id"]
        assert by_type["message.update"]["state"] == "completed"
        assert by_type["message.update"]["payload"]["chosen"] == str(chosen.id)
        assert by_type["message.new"]["id"] == card["id"]
    live = await in_thread(lambda: list(Hold.objects.filter(released_at__isnull=True)))()
    assert live == []
    # choosing again from the completed offer is refused
    await patient.send_json_to(
        action_frame(
            chat.conversation,
            "booking.choose_slot",
            offer=offer["id"],
            slot=str(slots[0].id),
            mode="online",
        )
    )
    assert (await receive(patient, "error"))["code"] == "wrong_state"
    await disconnect(doctor, patient)


@transactional
async def test_an_offer_whose_holds_lapsed_expires_for_both_and_cannot_be_chosen_from() -> None:
    # given: the doctor offered two times (held for BOOKING_OFFER_HOLD_MINUTES)
    chat = await amake_chat()
    slots = await in_thread(_later_slots)(chat, 2)
    doctor, patient = await connect(chat.doctor), await connect(chat.patient)
    await doctor.send_json_to(
        action_frame(chat.conversation, "booking.offer_slots", slots=[str(s.id) for s in slots])
    )
    offer = (await receive(doctor, "ack"))["message"]
    await receive(patient, "message.new")
    await receive(doctor, "message.new")
    # when: the holds lapse and the beat sweep runs (before that, the card is still open)
    later = timezone.now() + timedelta(minutes=settings.BOOKING_OFFER_HOLD_MINUTES, seconds=5)
    assert await in_thread(booking_services.expire_lapsed_offers)() == 0
    with time_machine.travel(later):
        choose = action_frame(
            chat.conversation,
            "booking.choose_slot",
            offer=offer["id"],
            slot=str(slots[0].id),
            mode="online",
        )
        await patient.send_json_to(choose)
        refused = await receive(patient, "error")
        await in_thread(booking_services.release_lapsed_holds)()
    # then: choosing was refused, and both sides see the card expired
    assert refused["code"] == "wrong_state"
    assert "expired" in refused["message"]
    for side in (doctor, patient):
        update = (await receive(side, "message.update"))["message"]
        assert (update["id"], update["state"]) == (offer["id"], "expired")
    card = await in_thread(Message.objects.get)(id=offer["id"])
    assert card.state == CardState.EXPIRED
    assert await in_thread(Appointment.objects.filter(patient=chat.patient).count)() == 1
    await disconnect(doctor, patient)


@transactional
async def test_a_booking_made_over_rest_shows_up_as_a_card_and_cancelling_updates_it() -> None:
    chat = await amake_chat()
    [slot] = await in_thread(_later_slots)(chat, 1)
    doctor, patient = await connect(chat.doctor), await connect(chat.patient)
    booked = await in_thread(_rest)(
        chat.patient, "post", "/api/appointments/", {"slot": str(slot.id), "mode": "online"}
    )
    assert booked.status_code == 201, booked.content
    card = (await receive(doctor, "message.new"))["message"]
    assert (card["action"], card["state"]) == ("booking.book_appointment", "completed")
    assert card["payload"]["appointment"] == booked.json()["id"]
    assert (await receive(patient, "message.new"))["message"] == card
    cancelled = await in_thread(_rest)(
        chat.patient, "post", f"/api/appointments/{booked.json()['id']}/cancel/"
    )
    assert cancelled.status_code == 200, cancelled.content
    for side in (doctor, patient):
        update = (await receive(side, "message.update"))["message"]
        assert (update["id"], update["state"]) == (card["id"], "cancelled")
        assert update["payload"]["status"] == "cancelled"
    await disconnect(doctor, patient)


@transactional
async def test_wrong_role_unknown_action_and_invalid_payload_write_nothing() -> None:
    chat = await amake_chat()
    slots = await in_thread(_later_slots)(chat, 6)
    patient, doctor = await connect(chat.patient), await connect(chat.doctor)
    before = await in_thread(_snapshot)()
    offer = action_frame(chat.conversation, "booking.offer_slots", slots=[str(slots[0].id)])
    await patient.send_json_to(offer)
    refused = await receive(patient)
    assert (refused["code"], refused["client_id"]) == ("action_not_allowed", offer["client_id"])
    await patient.send_json_to(action_frame(chat.conversation, "booking.teleport"))
    assert (await receive(patient))["code"] == "unknown_action"
    too_many = action_frame(
        chat.conversation, "booking.offer_slots", slots=[str(s.id) for s in slots]
    )
    await doctor.send_json_to(too_many)
    invalid = await receive(doctor)
    assert invalid["code"] == "invalid"
    assert "slots" in invalid["fields"]
    both = [str(slots[0].id), str(chat.appointment.slot_id)]  # the second one is booked
    taken = action_frame(chat.conversation, "booking.offer_slots", slots=both)
    await doctor.send_json_to(taken)
    assert (await receive(doctor))["code"] in {"slot_taken", "slot_not_bookable"}
    assert await in_thread(_snapshot)() == before  # the first hold was rolled back too
    await disconnect(patient, doctor)


# ------------------------------------------------------------------ the registry's role rules


def _care_team(chat: Chat) -> Conversation:
    conversation, _ = services.open_care_team_conversation(
        actor=chat.patient, center_id=chat.conversation.center_id
    )
    return conversation


def _actor(chat: Chat, role: str) -> tuple[Any, Conversation]:
    """A user holding `role` in a conversation of `chat`'s patient."""
    if role == ParticipantRole.PATIENT:
        return chat.patient, chat.conversation
    if role == ParticipantRole.DOCTOR:
        return chat.doctor, chat.conversation
    if role == ParticipantRole.PROXY:
        family = make_patient()
        make_grant(chat.patient, family, ["message", "book"])
        return family, chat.conversation
    staff_role = Role.NURSE if role == ParticipantRole.NURSE else Role.CENTER_ADMIN
    return make_staff(role=staff_role, center=chat.conversation.center), _care_team(chat)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r.value for r in ParticipantRole])
@pytest.mark.parametrize("action", sorted(registered_actions()))
def test_only_the_registered_roles_may_submit_each_action(action: str, role: str) -> None:
    chat = make_chat()
    actor, conversation = _actor(chat, role)
    before = Message.objects.filter(conversation=conversation).count()
    spec = registered_actions()[action]
    try:
        with transaction.atomic():
            services.submit_action(
                conversation_id=conversation.id, actor=actor, name=action, payload={}
            )
            outcome: Any = "written"
    except ActionNotAllowedError:
        outcome = "not_allowed"
    except (ValidationError, ApplicationError):
        outcome = "checked further"  # past the role check: the payload or the state decided
    if role in spec.allowed_roles:
        assert outcome != "not_allowed"
    else:
        assert outcome == "not_allowed"
        assert Message.objects.filter(conversation=conversation).count() == before


@pytest.mark.django_db
def test_request_card_is_completed_when_the_doctor_answers_it_with_an_offer() -> None:
    chat = make_chat()
    request = services.submit_action(
        conversation_id=chat.conversation.id,
        actor=chat.patient,
        name="booking.request_appointment",
        payload={"reason": "Knee pain", "preferred_times": "Mornings"},
    )
    assert request.state == CardState.OPEN
    assert "reason" not in json.dumps(request.payload)
    assert services.open_body(request, chat.conversation) == (
        "Reason: Knee pain\nPreferred times: Mornings"
    )
    [slot] = _later_slots(chat, 1)
    services.submit_action(
        conversation_id=chat.conversation.id,
        actor=chat.doctor,
        name="booking.offer_slots",
        payload={"slots": [str(slot.id)], "request": str(request.id)},
    )
    request.refresh_from_db()
    assert request.state == CardState.COMPLETED
