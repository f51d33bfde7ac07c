"""Chat fixtures: a patient and a doctor with a conversation (opened by a real booking)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from channels.routing import URLRouter

from booking import services as booking_services
from booking.models import Appointment
from careconnect.accounts.models import DoctorProfile, User
from chat.models import Conversation
from chat.routing import websocket_urlpatterns
from tests.booking.conftest import free_slots_of, publish_rule
from tests.factories import make_doctor, make_patient


@dataclass
class Chat:
    patient: User
    doctor: User
    conversation: Conversation
    appointment: Appointment


def with_user(app: Any, user: User | None) -> Any:
    """The ASGI app with `user` put into the scope, as channels' AuthMiddleware would."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> Any:
        return await app({**scope, "user": user}, receive, send)

    return wrapped


def chat_app(user: User | None) -> Any:
    return with_user(URLRouter(websocket_urlpatterns), user)


def make_chat() -> Chat:
    """Given: a doctor with availability and a patient who booked them (which opens the
    conversation and posts the booking card)."""
    doctor = make_doctor()
    publish_rule(doctor)
    patient = make_patient()
    slot = free_slots_of(doctor)[3]
    appointment = booking_services.book_slot(
        actor=patient, slot_id=slot.id, mode="online", reason="Rash"
    )
    conversation = Conversation.objects.get(
        patient=patient, doctor=DoctorProfile.objects.get(user=doctor)
    )
    return Chat(patient, doctor, conversation, appointment)


@pytest.fixture
def chat(db: None) -> Chat:
    return make_chat()
