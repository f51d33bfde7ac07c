"""Payments on the dev gateway (the embedded default): booking fees with a held slot, the
checkout's test cards, hold expiry, refunds by the center's policy, bills from staff, the
chat card, receipts, and the bad input of the issue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, BookingPolicy, Hold, Slot
from booking.payments.dev import CARD_DECLINED, CARD_NEEDS_AUTHENTICATION, CARD_SUCCEEDS
from booking.payments.models import DevIntent, Payment, Refund
from careconnect.accounts.models import CareGrant, DoctorProfile, Role, User
from careconnect.audit.models import AuditEvent
from chat.models import Message
from chat.services import ActionNotAllowedError, ensure_care_team_conversation, submit_action
from tests.booking.conftest import free_slots_of, publish_rule
from tests.conftest import signed_in
from tests.factories import make_doctor, make_patient, make_staff
from tests.utils import raw_database_text

pytestmark = pytest.mark.django_db

CARD = "booking.request_payment"


@pytest.fixture
def paid_doctor(db: None) -> User:
    """A doctor charging 30.00 USD online, bookable every day 09:00-12:00."""
    doctor = make_doctor(fee_online="30.00")
    publish_rule(doctor)
    return doctor


@pytest.fixture
def paid_slot(paid_doctor: User) -> Slot:
    later = timezone.now() + timedelta(days=3)
    return next(s for s in free_slots_of(paid_doctor) if s.start > later)


def book(api: Any, patient: User, slot: Slot) -> dict[str, Any]:
    response = signed_in(api, patient).post(
        "/api/appointments/", {"slot": str(slot.id), "mode": "online", "reason": "Migraine"}
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def fee_of(appointment_id: str) -> Payment:
    return Payment.objects.get(appointment_id=appointment_id, kind=Payment.Kind.BOOKING)


def pay(api: Any, payment: Payment, card: str = CARD_SUCCEEDS) -> Any:
    checkout = api.post(f"/api/payments/{payment.id}/checkout/", {})
    assert checkout.status_code == 200, checkout.content
    return api.post(f"/api/payments/{payment.id}/dev/confirm/", {"card_number": card})


def card_of(payment: Payment) -> Message:
    return Message.objects.get(action=CARD, target_id=str(payment.id))


# ------------------------------------------------------------------ booking with a fee


def test_booking_a_paid_slot_awaits_payment_with_the_slot_held_and_a_card_in_the_chat(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # when
    before = timezone.now()
    body = book(api, patient, paid_slot)
    # then
    assert body["status"] == "awaiting_payment"
    payment = fee_of(body["id"])
    assert (payment.amount, payment.currency, payment.status) == (
        Decimal("30.00"),
        "USD",
        "pending",
    )
    assert payment.due_by is not None
    assert timedelta(minutes=14) < payment.due_by - before <= timedelta(minutes=15, seconds=5)
    hold = Hold.objects.get(payment=payment)
    assert (hold.slot_id, hold.purpose, hold.released_at) == (paid_slot.id, "payment", None)
    card = card_of(payment)
    assert card.state == "open"
    assert card.payload["amount"] == {"amount": "30.00", "currency": "USD"}
    assert card.payload["status"] == "pending"
    assert paid_slot not in free_slots_of(paid_slot.doctor.user)
    listed = api.get("/api/payments/").json()
    assert listed["outstanding"] == [{"amount": "30.00", "currency": "USD"}]
    assert listed["payments"][0]["can_pay"] is True
    assert listed["payments"][0]["conversation"] == str(card.conversation_id)


def test_paying_with_the_good_test_card_confirms_the_booking_and_updates_both_cards(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given
    body = book(api, patient, paid_slot)
    payment = fee_of(body["id"])
    # when
    response = pay(api, payment)
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert response.json()["receipt_url"] == f"/api/payments/{payment.id}/receipt/"
    payment.refresh_from_db()
    assert payment.paid_at is not None
    assert Appointment.objects.get(id=body["id"]).status == "confirmed"
    assert Hold.objects.get(payment=payment).released_at is not None
    assert card_of(payment).state == "completed"
    booked_card = Message.objects.get(action="booking.book_appointment", target_id=body["id"])
    assert booked_card.payload["status"] == "confirmed"
    assert api.get("/api/payments/").json()["outstanding"] == []


def test_a_declined_card_leaves_the_booking_awaiting_with_a_clear_message_then_a_retry_pays(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given
    body = book(api, patient, paid_slot)
    payment = fee_of(body["id"])
    # when
    declined = pay(api, payment, CARD_DECLINED)
    # then
    assert declined.status_code == 200
    assert declined.json()["status"] == "failed"
    assert declined.json()["last_error"] == "Your card was declined."
    assert declined.json()["can_pay"] is True
    assert Appointment.objects.get(id=body["id"]).status == "awaiting_payment"
    assert card_of(payment).state == "failed"
    # when: the retry
    retried = pay(api, payment, CARD_SUCCEEDS)
    # then
    assert retried.json()["status"] == "paid"
    assert retried.json()["last_error"] == ""
    assert Appointment.objects.get(id=body["id"]).status == "confirmed"
    assert DevIntent.objects.count() == 1  # one intent for the bill, whatever the attempts


@pytest.mark.parametrize(("approve", "status"), [(True, "paid"), (False, "failed")])
def test_a_card_needing_authentication_pays_only_once_approved(
    api: Any, patient: User, paid_slot: Slot, approve: bool, status: str
) -> None:
    # given
    payment = fee_of(book(api, patient, paid_slot)["id"])
    first = pay(api, payment, CARD_NEEDS_AUTHENTICATION)
    assert first.json()["status"] == "requires_action"
    # when
    response = api.post(f"/api/payments/{payment.id}/dev/authenticate/", {"approve": approve})
    # then
    assert response.json()["status"] == status
    expected = "confirmed" if approve else "awaiting_payment"
    assert Appointment.objects.get(payments=payment).status == expected


def test_a_center_that_confirms_bookings_gets_a_paid_request(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given
    center_id = paid_slot.doctor.center_id
    BookingPolicy.objects.create(center_id=center_id, requires_confirmation=True)
    payment = fee_of(book(api, patient, paid_slot)["id"])
    # when
    pay(api, payment)
    # then
    assert Appointment.objects.get(payments=payment).status == "requested"


def test_a_free_doctor_books_straight_to_confirmed_without_a_bill(
    api: Any, patient: User, scheduled_doctor: User
) -> None:
    slot = free_slots_of(scheduled_doctor)[-1]
    body = book(api, patient, slot)
    assert body["status"] == "confirmed"
    assert not Payment.objects.exists()


def test_staff_booking_a_paid_slot_confirms_it_and_leaves_a_bill_without_a_hold(
    api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    # given: the patient is known to the center
    book(api, patient, free_slots_of(paid_doctor)[-1])
    # when
    response = signed_in(api, paid_doctor).post(
        "/api/appointments/",
        {"slot": str(paid_slot.id), "mode": "online", "patient": str(patient.id)},
    )
    # then
    assert response.json()["status"] == "confirmed"
    payment = fee_of(response.json()["id"])
    assert (payment.status, payment.hold_id, payment.due_by) == ("pending", None, None)


# ------------------------------------------------------------------ hold expiry


def test_letting_the_hold_lapse_frees_the_slot_and_expires_the_card(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given
    body = book(api, patient, paid_slot)
    payment = fee_of(body["id"])
    api.post(f"/api/payments/{payment.id}/checkout/", {})
    assert payment.due_by is not None
    # when: the beat sweep runs after the hold's end
    with time_machine.travel(payment.due_by + timedelta(seconds=30), tick=False):
        services.release_lapsed_holds()
        # then
        payment.refresh_from_db()
        assert payment.status == "expired"
        assert Appointment.objects.get(id=body["id"]).status == "cancelled"
        assert card_of(payment).state == "expired"
        assert DevIntent.objects.get(id=payment.intent_id).status == "canceled"
        assert selectors.free_slots().filter(id=paid_slot.id).exists()
        # and paying now is refused, while someone else can book the time
        late = api.post(f"/api/payments/{payment.id}/dev/confirm/", {"card_number": CARD_SUCCEEDS})
        assert late.status_code == 409
        assert late.json()["error"]["code"] == "not_payable"
        other = make_patient()
        assert book(api, other, paid_slot)["status"] == "awaiting_payment"


def test_a_hold_that_has_not_lapsed_is_left_alone(api: Any, patient: User, paid_slot: Slot) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    services.release_lapsed_holds()
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_paying_just_before_the_sweep_keeps_the_booking(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given: paid in time, the hold's task still runs at its end
    payment = fee_of(book(api, patient, paid_slot)["id"])
    pay(api, payment)
    assert payment.due_by is not None
    # when
    with time_machine.travel(payment.due_by + timedelta(seconds=30), tick=False):
        services.release_lapsed_holds()
    # then
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert Appointment.objects.get(payments=payment).status == "confirmed"


def test_rescheduling_an_unpaid_booking_moves_its_hold(
    api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    body = book(api, patient, paid_slot)
    target = free_slots_of(paid_doctor)[-1]
    response = api.post(f"/api/appointments/{body['id']}/reschedule/", {"slot": str(target.id)})
    assert response.status_code == 200, response.content
    payment = fee_of(body["id"])
    assert Hold.objects.get(payment=payment).slot_id == target.id


# ------------------------------------------------------------------ cancellations and refunds


def paid_booking(api: Any, patient: User, slot: Slot) -> Payment:
    payment = fee_of(book(api, patient, slot)["id"])
    assert pay(api, payment).json()["status"] == "paid"
    return payment


def test_cancelling_early_refunds_in_full_and_the_bill_and_card_show_it(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given
    payment = paid_booking(api, patient, paid_slot)
    # when
    response = api.post(f"/api/appointments/{payment.appointment_id}/cancel/")
    # then
    assert response.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("30.00"))
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == Decimal("30.00")
    assert refund.gateway_refund_id.startswith("dev_re_")
    card = card_of(payment)
    assert (card.state, card.payload["status"]) == ("completed", "refunded")
    shown = api.get(f"/api/payments/{payment.id}/").json()
    assert shown["refunds"][0]["amount"] == {"amount": "30.00", "currency": "USD"}


@pytest.mark.parametrize(("percent", "refunded"), [(0, "0.00"), (50, "15.00")])
def test_cancelling_late_refunds_what_the_policy_says(
    api: Any, patient: User, paid_doctor: User, percent: int, refunded: str
) -> None:
    # given: a visit within the 24 h of full refund
    center_id = DoctorProfile.objects.get(user=paid_doctor).center_id
    BookingPolicy.objects.create(center_id=center_id, late_refund_percent=percent)
    soon = timezone.now() + timedelta(hours=6)
    slot = next(s for s in free_slots_of(paid_doctor) if s.start > soon)
    with time_machine.travel(slot.start - timedelta(hours=5), tick=False):
        payment = paid_booking(api, patient, slot)
        # when
        api.post(f"/api/appointments/{payment.appointment_id}/cancel/")
    # then
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal(refunded)
    assert payment.status == ("paid" if percent == 0 else "partially_refunded")


def test_when_the_doctor_cancels_the_refund_is_always_full(
    api: Any, patient: User, paid_doctor: User
) -> None:
    soon = timezone.now() + timedelta(hours=6)
    slot = next(s for s in free_slots_of(paid_doctor) if s.start > soon)
    with time_machine.travel(slot.start - timedelta(hours=2), tick=False):
        payment = paid_booking(api, patient, slot)
        signed_in(api, paid_doctor).post(f"/api/appointments/{payment.appointment_id}/cancel/")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("30.00"))


def test_cancelling_an_unpaid_booking_voids_its_bill(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    api.post(f"/api/payments/{payment.id}/checkout/", {})
    api.post(f"/api/appointments/{payment.appointment_id}/cancel/")
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    assert card_of(payment).state == "cancelled"
    assert DevIntent.objects.get(id=payment.intent_id).status == "canceled"
    assert api.get("/api/payments/").json()["outstanding"] == []


def test_staff_refund_part_then_the_rest_never_more_than_paid(
    api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    # given
    payment = paid_booking(api, patient, paid_slot)
    staff = signed_in(api, paid_doctor)
    url = f"/api/payments/{payment.id}/refund/"
    # when / then
    too_much = staff.post(url, {"amount": {"amount": "31.00", "currency": "USD"}, "reason": "x"})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_too_large"
    part = staff.post(url, {"amount": {"amount": "10.00", "currency": "USD"}, "reason": "Short"})
    assert part.json()["status"] == "partially_refunded"
    assert part.json()["can_refund"] is True
    rest = staff.post(url, {"reason": "Goodwill"})
    assert rest.json()["status"] == "refunded"
    assert rest.json()["amount_refunded"] == {"amount": "30.00", "currency": "USD"}
    again = staff.post(url, {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "nothing_to_refund"
    assert Refund.objects.filter(payment=payment).count() == 2


def test_a_patient_cannot_refund_their_own_payment(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    payment = paid_booking(api, patient, paid_slot)
    response = api.post(f"/api/payments/{payment.id}/refund/", {})
    assert response.status_code == 403
    assert not Refund.objects.exists()


# ------------------------------------------------------------------ bad input


def test_the_server_decides_the_amount(api: Any, patient: User, paid_slot: Slot) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    for wrong in ({"amount": "1.00", "currency": "USD"}, {"amount": "30.00", "currency": "EUR"}):
        response = api.post(f"/api/payments/{payment.id}/checkout/", {"amount": wrong})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "amount_mismatch"
    right = api.post(
        f"/api/payments/{payment.id}/checkout/",
        {"amount": {"amount": "30.00", "currency": "USD"}},
    )
    assert right.status_code == 200
    assert right.json()["gateway"] == "dev"


def test_paying_twice_is_refused_and_charges_once(api: Any, patient: User, paid_slot: Slot) -> None:
    payment = paid_booking(api, patient, paid_slot)
    again = api.post(f"/api/payments/{payment.id}/checkout/", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_paid"
    confirm = api.post(f"/api/payments/{payment.id}/dev/confirm/", {"card_number": CARD_SUCCEEDS})
    assert confirm.status_code == 409
    assert AuditEvent.objects.filter(action="payment.paid", object_id=str(payment.id)).count() == 1


def test_someone_elses_bill_is_not_found(
    api: Any, make_api: Any, patient: User, paid_slot: Slot
) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    stranger = signed_in(make_api(), make_patient())
    for response in (
        stranger.get(f"/api/payments/{payment.id}/"),
        stranger.post(f"/api/payments/{payment.id}/checkout/", {}),
        stranger.post(f"/api/payments/{payment.id}/dev/confirm/", {"card_number": CARD_SUCCEEDS}),
        stranger.get(f"/api/payments/{payment.id}/receipt/"),
    ):
        assert response.status_code == 404
    other_doctor = signed_in(make_api(), make_doctor())
    assert other_doctor.get(f"/api/payments/{payment.id}/").status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"card_number": "abc"},
        {"card_number": CARD_SUCCEEDS, "expiry": "13/30"},
        {"card_number": CARD_SUCCEEDS, "extra": 1},
    ],
)
def test_a_malformed_card_form_is_400_and_changes_nothing(
    api: Any, patient: User, paid_slot: Slot, body: dict[str, Any]
) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    response = api.post(f"/api/payments/{payment.id}/dev/confirm/", body)
    assert response.status_code == 400
    assert "error" in response.json()
    payment.refresh_from_db()
    assert (payment.status, payment.intent_id) == ("pending", None)


def test_a_family_member_pays_only_with_the_pay_scope(
    api: Any, make_api: Any, patient: User, paid_slot: Slot
) -> None:
    # given
    payment = fee_of(book(api, patient, paid_slot)["id"])
    relative = make_patient()
    grant = CareGrant.objects.create(
        patient=patient,
        grantee=relative,
        email=str(relative.email),
        scopes=["book", "message"],
        status=CareGrant.Status.ACTIVE,
    )
    family = signed_in(make_api(), relative)
    # when / then: without `pay`
    assert family.get(f"/api/payments/?patient={patient.id}").status_code == 403
    refused = family.post(f"/api/payments/{payment.id}/checkout/", {})
    assert refused.status_code == 403
    # with `pay`
    grant.scopes = ["book", "pay"]
    grant.save(update_fields=["scopes"])
    listed = family.get(f"/api/payments/?patient={patient.id}").json()
    assert [p["id"] for p in listed["payments"]] == [str(payment.id)]
    assert pay(family, payment).json()["status"] == "paid"
    audit = AuditEvent.objects.filter(action="payment.attempt", object_id=str(payment.id)).get()
    assert (audit.actor_id, audit.acting_for_id) == (relative.id, patient.id)


# ------------------------------------------------------------------ bills from staff


def test_staff_send_a_bill_that_shows_as_a_card_with_its_lines_sealed(
    api: Any, make_api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    # given: the patient is the doctor's
    paid_booking(api, patient, paid_slot)
    doctor_api = signed_in(make_api(), paid_doctor)
    # when
    response = doctor_api.post(
        "/api/payments/bills/",
        {
            "patient": str(patient.id),
            "currency": "EUR",
            "items": [
                {"description": "Follow-up consult about asthma", "amount": "40.00"},
                {"description": "Spirometry", "amount": "12.50"},
            ],
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == {"amount": "52.50", "currency": "EUR"}
    assert body["kind"] == "bill"
    assert [i["description"] for i in body["items"]] == [
        "Follow-up consult about asthma",
        "Spirometry",
    ]
    bill = Payment.objects.get(id=body["id"])
    card = card_of(bill)
    assert card.sender_id == paid_doctor.id
    assert card.state == "open"
    assert "asthma" not in str(card.payload)
    assert "Spirometry" not in raw_database_text()  # sealed at rest (the body and the lines)
    # and the patient pays it from the card
    assert pay(api, bill).json()["status"] == "paid"
    assert card_of(bill).state == "completed"


def test_staff_bill_a_patient_of_their_center_only(
    api: Any, make_api: Any, patient: User, paid_doctor: User
) -> None:
    # patient unknown to the center
    response = signed_in(api, paid_doctor).post(
        "/api/payments/bills/",
        {"patient": str(patient.id), "items": [{"description": "Consult", "amount": "10.00"}]},
    )
    assert response.status_code == 404
    # a patient cannot bill
    other = signed_in(make_api(), make_patient())
    response = other.post(
        "/api/payments/bills/",
        {"patient": str(patient.id), "items": [{"description": "Consult", "amount": "10.00"}]},
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "items",
    [[], [{"description": "x", "amount": "0.00"}], [{"description": "<b>x</b>", "amount": "1"}]],
)
def test_a_bad_bill_is_400_and_writes_nothing(
    api: Any, patient: User, paid_doctor: User, paid_slot: Slot, items: list[Any]
) -> None:
    paid_booking(api, patient, paid_slot)
    before = Payment.objects.count()
    response = signed_in(api, paid_doctor).post(
        "/api/payments/bills/", {"patient": str(patient.id), "items": items}
    )
    assert response.status_code == 400
    assert Payment.objects.count() == before


def test_a_nurse_bills_from_the_chat_with_a_card(
    api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    # given
    paid_booking(api, patient, paid_slot)
    center = DoctorProfile.objects.get(user=paid_doctor).center
    nurse = make_staff(role=Role.NURSE, center=center)
    conversation, _ = ensure_care_team_conversation(patient=patient, center=center)
    # when
    message = submit_action(
        conversation_id=conversation.id,
        actor=nurse,
        name=CARD,
        payload={"items": [{"description": "Dressing change", "amount": "15.00"}]},
    )
    # then
    bill = Payment.objects.get(kind="bill")
    assert (message.target_id, message.state) == (str(bill.id), "open")
    assert bill.amount == Decimal("15.00")
    assert bill.created_by_id == nurse.id
    assert card_of(bill).conversation_id == conversation.id


def test_a_patient_cannot_send_a_bill_card(api: Any, patient: User, paid_slot: Slot) -> None:
    payment = paid_booking(api, patient, paid_slot)
    with pytest.raises(ActionNotAllowedError):
        submit_action(
            conversation_id=card_of(payment).conversation_id,
            actor=patient,
            name=CARD,
            payload={"items": [{"description": "x", "amount": "1.00"}]},
        )
    assert Payment.objects.count() == 1


# ------------------------------------------------------------------ receipts


def test_the_receipt_is_a_pdf_of_a_paid_bill_only(api: Any, patient: User, paid_slot: Slot) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    unpaid = api.get(f"/api/payments/{payment.id}/receipt/")
    assert unpaid.status_code == 409
    pay(api, payment)
    response = api.get(f"/api/payments/{payment.id}/receipt/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="payment.read", object_id=str(payment.id)).exists()


def test_paying_after_the_hold_lapsed_is_refused_even_before_the_sweep(
    api: Any, patient: User, paid_slot: Slot
) -> None:
    # given: the hold's time is up, and no sweep has run
    payment = fee_of(book(api, patient, paid_slot)["id"])
    assert payment.due_by is not None
    with time_machine.travel(payment.due_by + timedelta(seconds=1), tick=False):
        # when
        response = api.post(
            f"/api/payments/{payment.id}/dev/confirm/", {"card_number": CARD_SUCCEEDS}
        )
    # then: refused, and the lapse itself is kept (the slot is free again)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_payable"
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert Appointment.objects.get(payments=payment).status == "cancelled"
    assert selectors.free_slots().filter(id=paid_slot.id).exists()


def test_staff_see_a_patients_bill_but_do_not_pay_it(
    api: Any, make_api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    payment = fee_of(book(api, patient, paid_slot)["id"])
    staff = signed_in(make_api(), paid_doctor)
    assert staff.get(f"/api/payments/{payment.id}/").json()["can_pay"] is False
    assert api.get(f"/api/payments/{payment.id}/").json()["can_pay"] is True
    for response in (
        staff.post(f"/api/payments/{payment.id}/checkout/", {}),
        staff.post(f"/api/payments/{payment.id}/dev/confirm/", {"card_number": CARD_SUCCEEDS}),
    ):
        assert response.status_code == 403
    payment.refresh_from_db()
    assert (payment.status, payment.intent_id) == ("pending", None)


def test_rescheduling_to_a_mode_with_another_fee_is_refused_and_the_bill_follows_the_time(
    api: Any, patient: User, paid_doctor: User, paid_slot: Slot
) -> None:
    # given: online 30.00, in person 50.00; paid online
    DoctorProfile.objects.filter(user=paid_doctor).update(fee_in_person=Decimal("50.00"))
    payment = paid_booking(api, patient, paid_slot)
    target = free_slots_of(paid_doctor)[-1]
    url = f"/api/appointments/{payment.appointment_id}/reschedule/"
    # when / then: another mode, another fee
    refused = api.post(url, {"slot": str(target.id), "mode": "in_person"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "fee_changes"
    assert Appointment.objects.get(payments=payment).mode == "online"
    # the same mode at another time: the bill's line names the new time
    moved = api.post(url, {"slot": str(target.id)})
    assert moved.status_code == 200
    line = api.get(f"/api/payments/{payment.id}/").json()["items"][0]["description"]
    zone = selectors.center_zone(DoctorProfile.objects.get(user=paid_doctor).center)
    assert f"{timezone.localtime(target.start, zone):%d %b %Y %H:%M}" in line
