"""Booking's chat action cards (DESIGN §3): registered once with the chat registry from
`BookingConfig.ready()`. Handlers run inside `chat.services.submit_action`'s transaction and
call booking's services; payloads carry ids and display fields, never health data (a reason
for the visit goes in the card's sealed body)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from booking import services
from booking.models import Appointment, Hold, Mode, Slot
from booking.payments import services as payments
from booking.payments.api.serializers import CURRENCIES
from careconnect.accounts.models import User
from careconnect.api import PlainTextField
from careconnect.errors import InvalidInputError, NotFoundError
from chat.models import CardState, Conversation, Message, ParticipantRole
from chat.registry import CARE_SIDE, PATIENT_SIDE, ActionResult, ActionSpec, register
from chat.services import update_card

MODE_CHOICES = [m.value for m in Mode]
MAX_OFFERED = 5


def _slot_display(slot: Slot) -> dict[str, Any]:
    return {
        "id": str(slot.id),
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "mode": slot.mode,
    }


def _conversation_doctor_check(conversation: Conversation) -> None:
    if conversation.doctor_id is None:
        raise InvalidInputError("Booking cards need a conversation with a doctor.")


# ------------------------------------------------------------------ request_appointment


class RequestAppointmentPayload(serializers.Serializer[Any]):
    reason = PlainTextField(required=False, allow_blank=True, max_length=500, default="")
    preferred_times = PlainTextField(required=False, allow_blank=True, max_length=500, default="")
    mode = serializers.ChoiceField(choices=MODE_CHOICES, required=False)


def _request_appointment(
    *, conversation: Conversation, actor: User, role: str, data: Any
) -> ActionResult:
    _conversation_doctor_check(conversation)
    body = "\n".join(
        part
        for part in (
            data["reason"] and f"Reason: {data['reason']}",
            data["preferred_times"] and f"Preferred times: {data['preferred_times']}",
        )
        if part
    )
    return ActionResult(
        payload={"doctor": str(conversation.doctor_id), "mode": data.get("mode")},
        target=None,
        state=CardState.OPEN,
        body=body,
    )


# ------------------------------------------------------------------ offer_slots


class OfferSlotsPayload(serializers.Serializer[Any]):
    slots = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_OFFERED
    )
    request = serializers.UUIDField(required=False, help_text="The request card answered.")

    def validate_slots(self, value: list[Any]) -> list[Any]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each time once.")
        return value


def _offer_slots(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    """Hold up to 5 free slots of the conversation's doctor for the patient."""
    _conversation_doctor_check(conversation)
    minutes = settings.BOOKING_OFFER_HOLD_MINUTES
    offered = []
    for slot_id in data["slots"]:
        slot = Slot.objects.filter(id=slot_id, doctor_id=conversation.doctor_id).first()
        if slot is None:
            raise NotFoundError("That time is not one of this doctor's.", slots=[str(slot_id)])
        if not slot.published or not (slot.opens_at <= timezone.now() < slot.closes_at):
            raise services.SlotNotBookableError(slots=[str(slot_id)])
        services.place_hold(
            slot_id=slot.id,
            patient=conversation.patient,
            purpose=Hold.Purpose.CHAT_OFFER,
            minutes=minutes,
        )
        offered.append(_slot_display(slot))
    if data.get("request"):
        request = Message.objects.filter(
            id=data["request"], conversation=conversation, action="booking.request_appointment"
        ).first()
        if request is None:
            raise NotFoundError("That request is not in this conversation.")
        update_card(message_id=request.id, conversation=conversation, state=CardState.COMPLETED)
    return ActionResult(
        payload={
            "doctor": str(conversation.doctor_id),
            "slots": offered,
            "expires_at": (timezone.now() + timedelta(minutes=minutes)).isoformat(),
        },
        target=None,
        state=CardState.OPEN,
    )


# ------------------------------------------------------------------ choose_slot / book


class ChooseSlotPayload(serializers.Serializer[Any]):
    offer = serializers.UUIDField()
    slot = serializers.UUIDField()
    mode = serializers.ChoiceField(choices=MODE_CHOICES)


def _release_offer(offer: Message, keep: str | None) -> None:
    ids = [s["id"] for s in offer.payload.get("slots", []) if s["id"] != keep]
    Hold.objects.filter(
        slot_id__in=ids, released_at__isnull=True, purpose=Hold.Purpose.CHAT_OFFER
    ).update(released_at=timezone.now())


def _choose_slot(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    offer = (
        Message.objects.select_for_update()
        .filter(id=data["offer"], conversation=conversation, action="booking.offer_slots")
        .first()
    )
    if offer is None:
        raise NotFoundError("That offer is not in this conversation.")
    if offer.state != CardState.OPEN:
        raise services.WrongStateError("That offer is no longer open.")
    if services.offer_lapsed(offer.payload, timezone.now()):
        raise services.WrongStateError("That offer has expired: ask for new times.")
    if str(data["slot"]) not in {s["id"] for s in offer.payload.get("slots", [])}:
        raise InvalidInputError(slot=["Choose one of the offered times."])
    appointment = services.book_slot(
        actor=actor,
        slot_id=data["slot"],
        mode=data["mode"],
        patient_id=conversation.patient_id,
        doctor_id=conversation.doctor_id,
        announce=False,
    )
    _release_offer(offer, keep=str(data["slot"]))
    update_card(
        message_id=offer.id,
        conversation=conversation,
        state=CardState.COMPLETED,
        payload={"chosen": str(data["slot"]), "appointment": str(appointment.id)},
    )
    return ActionResult(services.appointment_card(appointment), appointment, CardState.COMPLETED)


class BookAppointmentPayload(serializers.Serializer[Any]):
    slot = serializers.UUIDField()
    mode = serializers.ChoiceField(choices=MODE_CHOICES)
    reason = PlainTextField(required=False, allow_blank=True, max_length=500, default="")


def _book_appointment(
    *, conversation: Conversation, actor: User, role: str, data: Any
) -> ActionResult:
    appointment = services.book_slot(
        actor=actor,
        slot_id=data["slot"],
        mode=data["mode"],
        patient_id=conversation.patient_id,
        doctor_id=conversation.doctor_id,
        reason=data["reason"],
        announce=False,
    )
    return ActionResult(services.appointment_card(appointment), appointment, CardState.COMPLETED)


# ------------------------------------------------------------------ reschedule / cancel


class ReschedulePayload(serializers.Serializer[Any]):
    appointment = serializers.UUIDField()
    slot = serializers.UUIDField()
    mode = serializers.ChoiceField(choices=MODE_CHOICES, required=False)


def _appointment_in(conversation: Conversation, appointment_id: Any) -> None:
    """The appointment is the conversation's: with its doctor, or (care team) at its center."""
    appointments = Appointment.objects.filter(id=appointment_id, patient_id=conversation.patient_id)
    if conversation.doctor_id is not None:
        appointments = appointments.filter(doctor_id=conversation.doctor_id)
    else:
        appointments = appointments.filter(doctor__center_id=conversation.center_id)
    if not appointments.exists():
        raise NotFoundError("That appointment is not part of this conversation.")


def _reschedule(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    _appointment_in(conversation, data["appointment"])
    appointment = services.reschedule_appointment(
        actor=actor,
        appointment_id=data["appointment"],
        slot_id=data["slot"],
        mode=data.get("mode"),
    )
    return ActionResult(services.appointment_card(appointment), appointment, CardState.COMPLETED)


class CancelPayload(serializers.Serializer[Any]):
    appointment = serializers.UUIDField()


def _cancel(*, conversation: Conversation, actor: User, role: str, data: Any) -> ActionResult:
    _appointment_in(conversation, data["appointment"])
    appointment = services.cancel_appointment(actor=actor, appointment_id=data["appointment"])
    return ActionResult(services.appointment_card(appointment), appointment, CardState.COMPLETED)


# ------------------------------------------------------------------ request_payment


class BillItemPayload(serializers.Serializer[Any]):
    description = PlainTextField(max_length=120)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))


class RequestPaymentPayload(serializers.Serializer[Any]):
    items = serializers.ListField(child=BillItemPayload(), min_length=1, max_length=20)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False, default="USD")


def _request_payment(
    *, conversation: Conversation, actor: User, role: str, data: Any
) -> ActionResult:
    """Staff bill the patient from the conversation (booking fees post this card too)."""
    items = [payments.BillItem(i["description"], i["amount"]) for i in data["items"]]
    payment = payments.create_bill(
        actor=actor,
        patient_id=conversation.patient_id,
        items=items,
        currency=data["currency"],
        center_id=conversation.center_id,
        post=False,
    )
    return ActionResult(
        payments.payment_card(payment),
        payment,
        CardState.OPEN,
        body=payments.bill_lines(items, payment.currency),
    )


def register_actions() -> None:
    for spec in (
        ActionSpec(
            "booking.request_appointment",
            RequestAppointmentPayload,
            PATIENT_SIDE,
            _request_appointment,
        ),
        ActionSpec(
            "booking.offer_slots",
            OfferSlotsPayload,
            frozenset({ParticipantRole.DOCTOR, ParticipantRole.NURSE}),
            _offer_slots,
        ),
        ActionSpec("booking.choose_slot", ChooseSlotPayload, PATIENT_SIDE, _choose_slot),
        ActionSpec(
            "booking.book_appointment", BookAppointmentPayload, PATIENT_SIDE, _book_appointment
        ),
        ActionSpec(
            "booking.reschedule_appointment",
            ReschedulePayload,
            PATIENT_SIDE | CARE_SIDE,
            _reschedule,
        ),
        ActionSpec("booking.cancel_appointment", CancelPayload, PATIENT_SIDE | CARE_SIDE, _cancel),
        ActionSpec(payments.CARD, RequestPaymentPayload, CARE_SIDE, _request_payment),
    ):
        register(spec)
