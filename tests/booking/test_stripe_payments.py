"""Booking fees paid through Stripe: the real SDK over real HTTP against the local fake
(`tests/booking/stripe_fake.py`), the only fake here. Checkout, webhooks delivered late, twice
or in any order, refunds, hold expiry, reconciliation and the money rules."""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any
from uuid import uuid4

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from booking import selectors
from booking import services as booking_services
from booking.models import Appointment, Hold, Slot
from booking.payments import services as payments
from booking.payments.models import GatewayEvent, Payment, PaymentStatus, Refund
from booking.payments.stripe_gw import StripeGateway
from careconnect.accounts.models import DoctorProfile, User
from careconnect.audit.models import AuditEvent
from chat.models import CardState, Message
from tests.booking.conftest import free_slots_of, publish_rule
from tests.booking.stripe_fake import JSON, WEBHOOK_SECRET, StripeFake, sign
from tests.conftest import Api, signed_in
from tests.factories import make_doctor, make_patient

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/payments/stripe/webhook/"
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_chargeDeclinedInsufficientFunds"
THREE_D_SECURE = "pm_card_authenticationRequired"

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL: SQLite's in-memory test database (shared "
    "cache) fails a second writer at once with 'table is locked' instead of waiting",
)


# ------------------------------------------------------------------ helpers


def fee_doctor() -> User:
    """A doctor charging 30.00 USD online, every day 09:00-12:00 bookable."""
    doctor = make_doctor(fee_online="30.00")
    publish_rule(doctor)
    return doctor


def open_slots(doctor: User) -> list[Slot]:
    """Free slots more than two days ahead: cancelling them gets a full refund."""
    after = timezone.now() + timedelta(days=2)
    return [slot for slot in free_slots_of(doctor) if slot.start > after]


def book(patient: User, slot: Slot) -> Payment:
    """The patient books a slot of a doctor with a fee: the appointment awaits payment."""
    appointment = booking_services.book_slot(actor=patient, slot_id=slot.id, mode="online")
    payment = payments.booking_payment(appointment)
    assert payment is not None
    assert appointment.status == Appointment.Status.AWAITING_PAYMENT
    return payment


def book_fee(patient: User | None = None) -> tuple[User, Payment]:
    patient = patient or make_patient()
    return patient, book(patient, open_slots(fee_doctor())[0])


def checkout(patient: User, payment: Payment) -> str:
    """The patient opens the checkout: the intent is created at Stripe. Returns its id."""
    _, intent, _ = payments.start_checkout(actor=patient, payment_id=payment.id)
    return intent.id


def confirm(intent_id: str, *methods: str) -> str:
    """What Stripe.js does in the browser, once per card tried (each attempt its own
    idempotency key). Returns the intent's status after the last one."""
    status = ""
    for method in methods:
        status = (
            StripeGateway()
            .confirm_intent(intent_id, payment_method=method, idempotency_key=f"js-{uuid4()}")
            .status
        )
    return status


def deliver(fake: StripeFake, event: JSON, *, client: Client | None = None, **signing: Any) -> Any:
    """Stripe posts one event to the webhook, signed now (or as `signing` says)."""
    body, signature = fake.delivery(event, **signing)
    return post_webhook(body, signature, client=client)


def post_webhook(body: bytes, signature: str, *, client: Client | None = None) -> Any:
    return (client or Client()).post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def deliver_all(fake: StripeFake, events: list[JSON]) -> list[Any]:
    """Deliver each event in turn; every one must be acknowledged. Returns the bodies. Events
    emitted meanwhile (our refunds) are not delivered: `events` is copied first."""
    events = list(events)
    responses = [deliver(fake, event) for event in events]
    assert [r.status_code for r in responses] == [200] * len(events), [
        r.content for r in responses if r.status_code != 200
    ]
    return [r.json() for r in responses]


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def intent_of(event: JSON) -> str:
    obj = event["data"]["object"]
    return str(obj["id"] if obj["object"] == "payment_intent" else obj["payment_intent"])


def events_of(fake: StripeFake, intent_id: str) -> list[JSON]:
    return [event for event in fake.events if intent_of(event) == intent_id]


def card_of(payment: Payment) -> Message:
    return Message.objects.get(action=payments.CARD, target_id=str(payment.id))


def audits(action: str, payment: Payment) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(payment.id)).count()


def appointment_of(payment: Payment) -> Appointment:
    assert payment.appointment_id is not None
    return Appointment.objects.get(id=payment.appointment_id)


def refunded_at_stripe(fake: StripeFake, intent_id: str) -> list[int]:
    """The refunds Stripe made on an intent, in minor units, oldest first."""
    return [r["amount"] for r in fake.refunds.values() if r["payment_intent"] == intent_id]


# ------------------------------------------------------------------ paying


def test_paying_through_stripe_confirms_the_booking_and_replayed_events_change_nothing(
    api: Api, stripe_fake: StripeFake
) -> None:
    # given: a booking awaiting payment, checked out over REST
    patient, payment = book_fee()
    response = signed_in(api, patient).post(f"/api/payments/{payment.id}/checkout/")
    assert response.status_code == 200, response.content
    payment.refresh_from_db()
    assert payment.intent_id is not None
    assert response.json()["gateway"] == "stripe"
    assert response.json()["client_secret"].startswith(f"{payment.intent_id}_secret_")
    # when: the browser confirms the card at Stripe, and Stripe delivers its events
    assert confirm(payment.intent_id, VISA) == "succeeded"
    assert stripe_fake.event_types() == ["payment_intent.created", "payment_intent.succeeded"]
    answers = deliver_all(stripe_fake, stripe_fake.events)
    # then
    assert answers == [{"received": True, "duplicate": False}] * 2
    payment.refresh_from_db()
    appointment = appointment_of(payment)
    assert payment.status == PaymentStatus.PAID
    assert payment.paid_at is not None
    assert not payment.late
    assert appointment.status == Appointment.Status.CONFIRMED
    assert payment.hold_id is not None
    assert Hold.objects.get(id=payment.hold_id).released_at is not None
    card = card_of(payment)
    assert card.state == CardState.COMPLETED
    assert card.payload["status"] == PaymentStatus.PAID
    # when: Stripe delivers the same events again
    audit_count, events = AuditEvent.objects.count(), GatewayEvent.objects.count()
    again = deliver_all(stripe_fake, stripe_fake.events)
    # then: acknowledged as duplicates, and nothing moved
    assert again == [{"received": True, "duplicate": True}] * 2
    assert Payment.objects.get(id=payment.id).updated_at == payment.updated_at
    assert Appointment.objects.get(id=appointment.id).updated_at == appointment.updated_at
    assert Message.objects.get(id=card.id).updated_at == card.updated_at
    assert AuditEvent.objects.count() == audit_count
    assert GatewayEvent.objects.count() == events
    assert audits("payment.paid", payment) == 1


def test_a_declined_card_fails_the_payment_and_another_card_then_pays_it(
    api: Api, stripe_fake: StripeFake
) -> None:
    # given: a checked-out booking
    patient, payment = book_fee()
    assert signed_in(api, patient).post(f"/api/payments/{payment.id}/checkout/").status_code == 200
    payment.refresh_from_db()
    assert payment.intent_id is not None
    # when: the card is declined and Stripe says so
    assert confirm(payment.intent_id, DECLINED) == "requires_payment_method"
    deliver_all(stripe_fake, stripe_fake.events)
    # then: the bill failed but can still be paid; the booking still waits for it
    payment.refresh_from_db()
    assert (payment.status, payment.last_error) == (PaymentStatus.FAILED, "Your card was declined.")
    assert payment.paid_at is None
    assert appointment_of(payment).status == Appointment.Status.AWAITING_PAYMENT
    assert card_of(payment).state == CardState.FAILED
    # when: another card pays it
    seen = len(stripe_fake.events)
    assert confirm(payment.intent_id, VISA) == "succeeded"
    deliver_all(stripe_fake, stripe_fake.events[seen:])
    # then
    payment.refresh_from_db()
    assert (payment.status, payment.last_error) == (PaymentStatus.PAID, "")
    assert appointment_of(payment).status == Appointment.Status.CONFIRMED
    assert card_of(payment).state == CardState.COMPLETED


def test_a_refund_event_before_its_payments_success_event_ends_as_in_order(
    stripe_fake: StripeFake,
) -> None:
    # given: two bookings paid at Stripe and partly refunded in Stripe's dashboard, so we learn
    # of both only from the events
    doctor, patient = fee_doctor(), make_patient()
    first, second = (book(patient, slot) for slot in open_slots(doctor)[:2])
    for payment in (first, second):
        intent_id = checkout(patient, payment)
        assert confirm(intent_id, VISA) == "succeeded"
        StripeGateway().refund(intent_id, amount=1000, idempotency_key=f"dashboard-{intent_id}")
        payment.refresh_from_db()
    assert first.intent_id is not None
    assert second.intent_id is not None
    in_order, reversed_ = (
        events_of(stripe_fake, first.intent_id),
        events_of(stripe_fake, second.intent_id)[::-1],
    )
    assert reversed_[0]["type"] == "refund.created"
    # when: the first's events come in order, the second's backwards
    deliver_all(stripe_fake, in_order)
    deliver_all(stripe_fake, reversed_)

    # then: both end the same
    def outcome(payment: Payment) -> tuple[Any, ...]:
        payment.refresh_from_db()
        return (
            payment.status,
            payment.amount_refunded,
            payment.paid_at is not None,
            payment.late,
            payment.last_error,
            appointment_of(payment).status,
            card_of(payment).state,
            [r.amount for r in payment.refunds.all()],
            audits("payment.paid", payment),
            audits("payment.refunded", payment),
        )

    assert outcome(first) == outcome(second)
    assert outcome(second) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        Decimal("10.00"),
        True,
        False,
        "",
        Appointment.Status.CONFIRMED,
        CardState.COMPLETED,
        [Decimal("10.00")],
        1,
        1,
    )


# ------------------------------------------------------------------ the webhook storm


@dataclass(slots=True)
class StormFee:
    """One booking fee of the storm, and what we asked Stripe to do with it."""

    payment: Payment
    patient: User
    staff: User
    intent_id: str = ""
    refunds_asked: int = 0
    cancelled: bool = False


def _sync(fee: StormFee) -> None:
    """The web app asks after Stripe.js confirmed (staff can refund only what we know paid)."""
    payments.sync_payment(actor=fee.patient, payment_id=fee.payment.id)


def _refund(fee: StormFee, amount: str | None) -> None:
    payments.refund_payment(
        actor=fee.staff,
        payment_id=fee.payment.id,
        amount=None if amount is None else Decimal(amount),
        reason="Goodwill",
    )
    fee.refunds_asked += 1


def _cancel(fee: StormFee) -> None:
    """The patient cancels days ahead: a paid fee is refunded in full, an unpaid one voided."""
    paid = Payment.objects.get(id=fee.payment.id)
    booking_services.cancel_appointment(actor=fee.patient, appointment_id=appointment_of(paid).id)
    fee.cancelled = True
    if paid.status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
        fee.refunds_asked += 1


def _paid(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, VISA)


def _declined_then_paid(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, DECLINED, INSUFFICIENT_FUNDS, DECLINED, VISA)


def _three_d_secure(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, THREE_D_SECURE)
    fake.authenticate(fee.intent_id)


def _three_d_secure_failed_then_passed(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, THREE_D_SECURE)
    fake.fail_authentication(fee.intent_id)
    confirm(fee.intent_id, THREE_D_SECURE)
    fake.authenticate(fee.intent_id)


def _partially_refunded(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, VISA)
    _sync(fee)
    for _ in range(3):
        _refund(fee, "5.00")


def _refunded_by_staff(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, VISA)
    _sync(fee)
    _refund(fee, "10.00")
    _refund(fee, None)  # all that is left


def _cancelled_after_paying(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, VISA)
    _sync(fee)
    _cancel(fee)


def _partially_refunded_then_cancelled(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, VISA)
    _sync(fee)
    _refund(fee, "5.00")
    _refund(fee, "7.50")
    _cancel(fee)  # refunds the 17.50 left


def _left_declined(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, DECLINED, INSUFFICIENT_FUNDS, DECLINED)


def _cancelled_unpaid(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, DECLINED)
    _cancel(fee)  # the intent is cancelled at Stripe


def _left_awaiting_authentication(fake: StripeFake, fee: StormFee) -> None:
    confirm(fee.intent_id, THREE_D_SECURE)


STORIES: list[Callable[[StripeFake, StormFee], None]] = [
    _paid,
    _declined_then_paid,
    _three_d_secure,
    _three_d_secure_failed_then_passed,
    _partially_refunded,
    _refunded_by_staff,
    _cancelled_after_paying,
    _partially_refunded_then_cancelled,
    _left_declined,
    _cancelled_unpaid,
    _left_awaiting_authentication,
]


def _storm_fees(fake: StripeFake) -> list[StormFee]:
    """84 booking fees over 4 doctors (each at their own center) and 8 patients, each through
    one of the stories at Stripe; every twelfth is never checked out. No webhook yet. (Enough
    for 350+ distinct events: with 30% repeats that makes 500+ deliveries.)"""
    doctors = [fee_doctor() for _ in range(4)]
    slots = {doctor.id: open_slots(doctor) for doctor in doctors}
    patients = [make_patient() for _ in range(8)]
    fees = []
    for index in range(84):
        doctor, patient = doctors[index % 4], patients[index % 8]
        fee = StormFee(book(patient, slots[doctor.id].pop(0)), patient, staff=doctor)
        fees.append(fee)
        story = index % (len(STORIES) + 1)
        if story == len(STORIES):
            continue  # never checked out: no intent, stays due
        fee.intent_id = checkout(patient, fee.payment)
        STORIES[story](fake, fee)
    return fees


def _deliveries(fake: StripeFake, seed: int) -> list[JSON]:
    """Every event Stripe emitted, at least once, plus random repeats making 30% of the
    deliveries duplicates (at least 500 deliveries), shuffled."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    distinct = list(fake.events)
    repeats = math.ceil(len(distinct) * 3 / 7)
    deliveries = distinct + [rng.choice(distinct) for _ in range(repeats)]
    rng.shuffle(deliveries)
    assert len(deliveries) >= 500
    assert 0.3 <= repeats / len(deliveries) < 0.31
    return deliveries


def _deliver_concurrently(fake: StripeFake, deliveries: list[JSON], threads: int) -> list[Any]:
    """Deliver from `threads` threads at once, each with its own client and connection."""
    answers: list[Any] = [None] * len(deliveries)
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(offset: int) -> None:
        client = Client()
        try:
            start.wait(timeout=30)
            for index in range(offset, len(deliveries), threads):
                response = deliver(fake, deliveries[index], client=client)
                answers[index] = (response.status_code, response.json())
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a delivery thread hung"
    assert not failures, failures
    return answers


def _expected_from_stripe(fake: StripeFake, fee: StormFee) -> tuple[str, Decimal, bool]:
    """What our record must say, from Stripe's truth: (status, amount refunded, paid)."""
    if not fee.intent_id:
        return PaymentStatus.PENDING, Decimal("0.00"), False
    intent = fake.intents[fee.intent_id]
    refunded = sum(refunded_at_stripe(fake, fee.intent_id))
    match intent["status"]:
        case "succeeded":
            status = (
                PaymentStatus.PAID
                if refunded == 0
                else PaymentStatus.PARTIALLY_REFUNDED
                if refunded < intent["amount"]
                else PaymentStatus.REFUNDED
            )
            return status, Decimal(refunded) / 100, True
        case "canceled":  # only a patient's cancellation cancels an intent in the storm
            return PaymentStatus.CANCELLED, Decimal("0.00"), False
        case "requires_action":
            return PaymentStatus.REQUIRES_ACTION, Decimal("0.00"), False
        case "requires_payment_method" if intent["last_payment_error"]:
            return PaymentStatus.FAILED, Decimal("0.00"), False
    return PaymentStatus.PENDING, Decimal("0.00"), False


def _run_storm(fake: StripeFake, *, threads: int) -> None:
    # given: 84 fees through a mix of stories at Stripe, and every event Stripe emitted for
    # them, repeated and shuffled
    fees = _storm_fees(fake)
    deliveries = _deliveries(fake, seed=20260501)
    distinct = {event["id"] for event in fake.events}
    refunds_asked = sum(fee.refunds_asked for fee in fees)
    # when
    if threads == 1:
        answers = [
            (r.status_code, r.json()) for r in (deliver(fake, event) for event in deliveries)
        ]
    else:
        answers = _deliver_concurrently(fake, deliveries, threads)
    # then: each event was applied once, its repeats acknowledged as duplicates
    assert {status for status, _ in answers} == {200}
    firsts = [body for _, body in answers if not body["duplicate"]]
    assert len(firsts) == len(distinct)
    assert GatewayEvent.objects.count() == len(distinct)
    assert set(GatewayEvent.objects.values_list("event_id", flat=True)) == distinct
    # and every record says what Stripe says
    for fee in fees:
        payment = Payment.objects.get(id=fee.payment.id)
        expected = _expected_from_stripe(fake, fee)
        assert (payment.status, payment.amount_refunded, payment.paid_at is not None) == expected
        # the refunds we hold are Stripe's, each once
        at_stripe = refunded_at_stripe(fake, fee.intent_id) if fee.intent_id else []
        ours = list(payment.refunds.values_list("amount", flat=True))
        assert sorted(ours) == sorted(Decimal(amount) / 100 for amount in at_stripe)
        # a paid booking was confirmed exactly once; a cancelled one stays cancelled
        paid = expected[2]
        assert audits("payment.paid", payment) == (1 if paid else 0)
        appointment = appointment_of(payment)
        if fee.cancelled:
            assert appointment.status == Appointment.Status.CANCELLED
        elif paid:
            assert appointment.status == Appointment.Status.CONFIRMED
        else:
            assert appointment.status == Appointment.Status.AWAITING_PAYMENT
    # and nothing was refunded twice
    assert fake.refund_calls == refunds_asked
    assert Refund.objects.count() == refunds_asked


def test_a_storm_of_repeated_shuffled_webhooks_leaves_every_payment_as_stripe_says(
    stripe_fake: StripeFake,
) -> None:
    # Sequential: the SQLite test database cannot take concurrent writers (see the
    # PostgreSQL-only variant below).
    _run_storm(stripe_fake, threads=1)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_storm_of_webhooks_from_four_threads_leaves_every_payment_as_stripe_says(
    stripe_fake: StripeFake,
) -> None:
    _run_storm(stripe_fake, threads=4)


# ------------------------------------------------------------------ hold expiry


def test_an_unpaid_booking_lapses_when_its_hold_expires_and_frees_the_slot(
    stripe_fake: StripeFake,
) -> None:
    # given: a checked-out booking that is never paid
    patient, payment = book_fee()
    intent_id = checkout(patient, payment)
    appointment = appointment_of(payment)
    assert payment.due_by is not None
    assert not selectors.free_slots().filter(id=appointment.slot_id).exists()
    # when: the sweep runs after the hold lapsed
    with time_machine.travel(payment.due_by + timedelta(seconds=1), tick=False):
        assert booking_services.release_lapsed_holds() == 1
        # then: the booking is cancelled, the bill expired and its intent cancelled at Stripe
        payment.refresh_from_db()
        appointment.refresh_from_db()
        assert payment.status == PaymentStatus.EXPIRED
        assert appointment.status == Appointment.Status.CANCELLED
        assert card_of(payment).state == CardState.EXPIRED
        assert stripe_fake.intents[intent_id]["status"] == "canceled"
        assert stripe_fake.cancel_calls == 1
        assert payment.hold_id is not None
        assert Hold.objects.get(id=payment.hold_id).released_at is not None
        # and the slot is free: another patient books it
        assert selectors.free_slots().filter(id=appointment.slot_id).exists()
        other = book(make_patient(), appointment.slot)
    assert appointment_of(other).slot_id == appointment.slot_id


def test_a_payment_arriving_after_the_hold_lapsed_is_refunded_in_full_once(
    stripe_fake: StripeFake, settings: Any
) -> None:
    # given: a checked-out booking whose hold lapses while Stripe cannot be reached (so its
    # intent is not cancelled and can still be paid)
    patient, payment = book_fee()
    intent_id = checkout(patient, payment)
    assert payment.due_by is not None
    reachable = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS = "http://127.0.0.1:9", 1
    with time_machine.travel(payment.due_by + timedelta(seconds=1), tick=False):
        booking_services.release_lapsed_holds()
    settings.STRIPE_API_BASE = reachable
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.EXPIRED
    assert stripe_fake.intents[intent_id]["status"] == "requires_payment_method"
    # when: the patient pays anyway, and Stripe says so
    assert confirm(intent_id, VISA) == "succeeded"
    deliver_all(stripe_fake, stripe_fake.events)
    # then: the money goes back, all of it, once; the booking stays cancelled
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.late
    assert payment.amount_refunded == Decimal("30.00")
    assert stripe_fake.refund_calls == 1
    assert refunded_at_stripe(stripe_fake, intent_id) == [3000]
    assert [r.amount for r in payment.refunds.all()] == [Decimal("30.00")]
    assert appointment_of(payment).status == Appointment.Status.CANCELLED
    # when: Stripe delivers everything again, the refund's own events included
    seen = len(stripe_fake.events)
    assert stripe_fake.event_types()[-2:] == ["charge.refunded", "refund.created"]
    again = deliver_all(stripe_fake, stripe_fake.events)
    # then: no second refund
    assert [a["duplicate"] for a in again] == [True] * (seen - 2) + [False, False]
    assert stripe_fake.refund_calls == 1
    assert Refund.objects.filter(payment=payment).count() == 1
    assert Payment.objects.get(id=payment.id).status == PaymentStatus.REFUNDED


# ------------------------------------------------------------------ bad webhooks


def _paid_at_stripe(fake: StripeFake) -> tuple[Payment, JSON]:
    """A booking paid at Stripe whose success event is not delivered yet."""
    patient, payment = book_fee()
    intent_id = checkout(patient, payment)
    assert confirm(intent_id, VISA) == "succeeded"
    payment.refresh_from_db()
    return payment, fake.events[-1]


def _wrong_secret(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    return fake.delivery(event, secret="whsec_someone_else")


def _signed_ten_minutes_ago(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    return fake.delivery(event, timestamp=int(time.time()) - 600)


def _unsigned(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    return fake.delivery(event)[0], ""


def _body_changed_after_signing(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    body, signature = fake.delivery(event)
    return body.replace(b"payment_intent.succeeded", b"payment_intent.canceled"), signature


def _signed_not_json(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    body = b"payment_intent.succeeded, trust me"
    return body, sign(body, WEBHOOK_SECRET)


def _signed_without_id(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    return fake.delivery({key: value for key, value in event.items() if key != "id"})


def _signed_with_a_foreign_id(fake: StripeFake, event: JSON) -> tuple[bytes, str]:
    return fake.delivery({**event, "id": "not-an-event"})


@pytest.mark.parametrize(
    ("forge", "code"),
    [
        (_wrong_secret, "bad_signature"),
        (_signed_ten_minutes_ago, "bad_signature"),
        (_unsigned, "bad_signature"),
        (_body_changed_after_signing, "bad_signature"),
        (_signed_not_json, "invalid_event"),
        (_signed_without_id, "invalid_event"),
        (_signed_with_a_foreign_id, "invalid_event"),
    ],
)
def test_a_webhook_that_is_not_a_genuine_readable_stripe_event_is_refused_and_changes_nothing(
    stripe_fake: StripeFake,
    forge: Callable[[StripeFake, JSON], tuple[bytes, str]],
    code: str,
) -> None:
    # given
    payment, succeeded = _paid_at_stripe(stripe_fake)
    audit_count = AuditEvent.objects.count()
    # when
    response = post_webhook(*forge(stripe_fake, succeeded))
    # then
    assert response.status_code == 400
    assert error_code(response) == code
    assert not GatewayEvent.objects.exists()
    assert Payment.objects.get(id=payment.id).updated_at == payment.updated_at
    assert AuditEvent.objects.count() == audit_count


def test_an_event_type_we_do_not_use_is_acknowledged(stripe_fake: StripeFake) -> None:
    # given
    event: JSON = {
        "id": "evt_customer_created",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    # when
    response = deliver(stripe_fake, event)
    # then
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert list(GatewayEvent.objects.values_list("type", "intent_id")) == [("customer.created", "")]


def test_an_event_for_an_intent_we_never_created_is_acknowledged_and_changes_nothing(
    stripe_fake: StripeFake,
) -> None:
    # given: our payment, and an intent someone else made on the same Stripe account
    payment, _ = _paid_at_stripe(stripe_fake)
    foreign = StripeGateway().create_intent(
        amount=5000, currency="usd", idempotency_key="elsewhere", metadata={}
    )
    confirm(foreign.id, VISA)
    audit_count = AuditEvent.objects.count()
    # when
    response = deliver(stripe_fake, stripe_fake.events[-1])
    # then
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert Payment.objects.get(id=payment.id).updated_at == payment.updated_at
    assert AuditEvent.objects.count() == audit_count


def test_the_webhook_is_not_found_while_the_dev_gateway_is_active(settings: Any) -> None:
    # given: no Stripe configured
    assert settings.PAYMENT_GATEWAY == "dev"
    event = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "data": {}}
    body = json.dumps(event).encode()
    # when
    response = post_webhook(body, sign(body, WEBHOOK_SECRET))
    # then
    assert response.status_code == 404
    assert not GatewayEvent.objects.exists()


# ------------------------------------------------------------------ reconciliation


def test_reconcile_lists_a_payment_stripe_took_but_we_missed_and_fix_applies_it(
    stripe_fake: StripeFake,
) -> None:
    # given: a booking paid at Stripe whose webhook never came
    payment, _ = _paid_at_stripe(stripe_fake)
    # when
    listed = StringIO()
    call_command("reconcile_payments", stdout=listed)
    # then: listed as drift, nothing changed
    assert f"drift\tpayment {payment.id}\tours=pending\tgateway=succeeded" in listed.getvalue()
    assert "1 payment(s) differ" in listed.getvalue()
    assert Payment.objects.get(id=payment.id).updated_at == payment.updated_at
    assert appointment_of(payment).status == Appointment.Status.AWAITING_PAYMENT
    # when
    fixed = StringIO()
    call_command("reconcile_payments", "--fix", stdout=fixed)
    # then
    assert f"fixed\tpayment {payment.id}" in fixed.getvalue()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert appointment_of(payment).status == Appointment.Status.CONFIRMED
    assert audits("payment.paid", payment) == 1
    # when: run again
    again = StringIO()
    call_command("reconcile_payments", stdout=again)
    # then
    assert str(payment.id) not in again.getvalue()
    assert "0 payment(s) differ" in again.getvalue()


# ------------------------------------------------------------------ money rules over REST


def test_checkout_with_another_amount_than_due_is_refused_and_creates_no_intent(
    api: Api, stripe_fake: StripeFake
) -> None:
    # given
    patient, payment = book_fee()
    client = signed_in(api, patient)
    # when
    response = client.post(
        f"/api/payments/{payment.id}/checkout/", {"amount": {"amount": "1.00", "currency": "USD"}}
    )
    # then
    assert response.status_code == 400
    assert error_code(response) == "amount_mismatch"
    assert stripe_fake.create_calls == 0
    assert Payment.objects.get(id=payment.id).intent_id is None


def test_checkout_creates_the_intent_in_minor_units_and_lower_case_currency(
    api: Api, stripe_fake: StripeFake
) -> None:
    # given
    patient, payment = book_fee()
    client = signed_in(api, patient)
    # when
    response = client.post(
        f"/api/payments/{payment.id}/checkout/", {"amount": {"amount": "30.00", "currency": "usd"}}
    )
    # then
    assert response.status_code == 200, response.content
    payment.refresh_from_db()
    assert payment.intent_id is not None
    intent = stripe_fake.intents[payment.intent_id]
    assert (intent["amount"], intent["currency"]) == (3000, "usd")
    assert intent["metadata"] == {"payment": str(payment.id)}
    assert response.json()["payment"]["amount"] == {"amount": "30.00", "currency": "USD"}


def test_checking_out_a_paid_bill_is_a_conflict(api: Api, stripe_fake: StripeFake) -> None:
    # given: a bill paid and synced
    patient, payment = book_fee()
    client = signed_in(api, patient)
    assert client.post(f"/api/payments/{payment.id}/checkout/").status_code == 200
    payment.refresh_from_db()
    assert payment.intent_id is not None
    confirm(payment.intent_id, VISA)
    synced = client.post(f"/api/payments/{payment.id}/sync/")
    assert synced.json()["status"] == PaymentStatus.PAID
    # when
    response = client.post(f"/api/payments/{payment.id}/checkout/")
    # then
    assert response.status_code == 409
    assert error_code(response) == "already_paid"
    assert stripe_fake.create_calls == 1
    assert stripe_fake.confirm_calls == 1


def test_another_patient_cannot_check_out_a_bill(api: Api, stripe_fake: StripeFake) -> None:
    # given
    _, payment = book_fee()
    client = signed_in(api, make_patient())
    # when
    response = client.post(f"/api/payments/{payment.id}/checkout/")
    # then
    assert response.status_code == 404
    assert stripe_fake.create_calls == 0
    assert Payment.objects.get(id=payment.id).intent_id is None


def test_staff_cannot_refund_more_than_was_paid(api: Api, stripe_fake: StripeFake) -> None:
    # given: a paid booking fee
    payment, succeeded = _paid_at_stripe(stripe_fake)
    deliver_all(stripe_fake, [succeeded])
    doctor = DoctorProfile.objects.get(id=appointment_of(payment).doctor_id).user
    client = signed_in(api, doctor)
    # when
    response = client.post(
        f"/api/payments/{payment.id}/refund/", {"amount": {"amount": "30.01", "currency": "USD"}}
    )
    # then
    assert response.status_code == 400
    assert error_code(response) == "refund_too_large"
    assert stripe_fake.refund_calls == 0
    assert not Refund.objects.exists()
    assert Payment.objects.get(id=payment.id).status == PaymentStatus.PAID
