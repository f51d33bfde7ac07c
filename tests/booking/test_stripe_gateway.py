"""StripeGateway against the local Stripe fake, through the real SDK and real HTTP."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from booking.payments.base import GatewayError, IntentStatus, PaymentGateway
from booking.payments.stripe_gw import DEFAULT_API_VERSION, StripeGateway, construct_event
from tests.booking.stripe_fake import StripeFake, sign

METADATA = {"appointment": "6f1c2a9e-2b7d-4c1e-9a55-0d6f2f7d1b11", "kind": "consult"}


def paid_intent(gateway: StripeGateway, *, amount: int = 3500) -> str:
    intent = gateway.create_intent(
        amount=amount, currency="EUR", idempotency_key="create-paid", metadata=METADATA
    )
    gateway.confirm_intent(intent.id, payment_method="pm_card_visa", idempotency_key="pay-paid")
    return intent.id


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """Accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_create_then_retrieve_round_trips_minor_units_currency_and_metadata(
    stripe_fake: StripeFake,
) -> None:
    # given
    gateway = StripeGateway()
    # when
    created = gateway.create_intent(
        amount=3500, currency="EUR", idempotency_key="create-1", metadata=METADATA
    )
    retrieved = gateway.retrieve_intent(created.id)
    # then
    assert created.id.startswith("pi_")
    assert created.status == IntentStatus.REQUIRES_PAYMENT_METHOD
    assert created.client_secret.startswith(f"{created.id}_secret_")
    assert retrieved == created
    assert (retrieved.amount, retrieved.currency, retrieved.amount_received) == (3500, "eur", 0)
    assert retrieved.metadata == METADATA
    assert retrieved.refunds == ()
    sent = stripe_fake.requests[0].params
    assert sent["amount"] == "3500"
    assert sent["currency"] == "eur"
    assert sent["automatic_payment_methods"] == {"enabled": "true"}


def test_every_call_sends_the_configured_api_version_and_the_secret_key(
    stripe_fake: StripeFake, settings: Any
) -> None:
    # given
    settings.STRIPE_API_VERSION = "2025-10-29.clover"
    gateway = StripeGateway()
    # when
    intent_id = paid_intent(gateway)
    gateway.refund(intent_id, amount=100, idempotency_key="refund-1")
    gateway.retrieve_intent(intent_id)
    # then
    assert {(r.method, r.path.split("/")[-1]) for r in stripe_fake.requests} == {
        ("POST", "payment_intents"),
        ("POST", "confirm"),
        ("GET", intent_id),
        ("GET", "refunds"),
        ("POST", "refunds"),
    }
    assert {r.headers["stripe-version"] for r in stripe_fake.requests} == {"2025-10-29.clover"}
    assert {r.headers["authorization"] for r in stripe_fake.requests} == {"Bearer sk_test_fake"}


def test_without_a_configured_version_the_pinned_default_is_sent(
    stripe_fake: StripeFake, settings: Any
) -> None:
    # given
    if hasattr(settings, "STRIPE_API_VERSION"):
        del settings.STRIPE_API_VERSION
    # when
    StripeGateway().create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata={}
    )
    # then
    assert stripe_fake.requests[0].headers["stripe-version"] == DEFAULT_API_VERSION


def test_every_write_carries_the_callers_idempotency_key(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    # when
    intent_id = paid_intent(gateway)
    gateway.refund(intent_id, amount=100, idempotency_key="refund-1")
    gateway.cancel_intent(intent_id, idempotency_key="cancel-1")
    # then
    writes = [r for r in stripe_fake.requests if r.method == "POST"]
    assert [r.headers.get("idempotency-key") for r in writes] == [
        "create-paid",
        "pay-paid",
        "refund-1",
        "cancel-1",
    ]


def test_two_creates_with_one_key_make_one_intent(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    # when
    first = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="appointment-1", metadata=METADATA
    )
    second = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="appointment-1", metadata=METADATA
    )
    # then
    assert second == first
    assert stripe_fake.create_calls == 1
    assert list(stripe_fake.intents) == [first.id]


def test_two_refunds_with_one_key_refund_once(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent_id = paid_intent(gateway)
    # when
    first = gateway.refund(intent_id, amount=1000, idempotency_key="refund-1")
    second = gateway.refund(intent_id, amount=1000, idempotency_key="refund-1")
    # then
    assert second == first
    assert first.id.startswith("re_")
    assert (first.amount, first.status) == (1000, "succeeded")
    assert stripe_fake.refund_calls == 1
    assert gateway.retrieve_intent(intent_id).refunds == (first,)


def test_reusing_a_key_with_other_parameters_raises_gateway_error(
    stripe_fake: StripeFake,
) -> None:
    # given
    gateway = StripeGateway()
    gateway.create_intent(amount=3500, currency="eur", idempotency_key="key-1", metadata={})
    # when / then
    with pytest.raises(GatewayError):
        gateway.create_intent(amount=4000, currency="eur", idempotency_key="key-1", metadata={})
    assert stripe_fake.create_calls == 1


def test_card_payment_succeeds_and_records_the_amount_received(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata={}
    )
    # when
    paid = gateway.confirm_intent(intent.id, payment_method="pm_card_visa", idempotency_key="pay")
    # then
    assert paid.status == IntentStatus.SUCCEEDED
    assert paid.amount_received == 3500
    assert paid.last_error == ""


def test_declined_card_leaves_the_intent_awaiting_a_payment_method_with_last_error(
    stripe_fake: StripeFake,
) -> None:
    # given
    gateway = StripeGateway()
    intent = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata={}
    )
    # when
    declined = gateway.confirm_intent(
        intent.id, payment_method="pm_card_chargeDeclined", idempotency_key="pay-1"
    )
    # then
    assert declined.status == IntentStatus.REQUIRES_PAYMENT_METHOD
    assert declined.last_error == "Your card was declined."
    assert declined.amount_received == 0
    # and a new card can still pay it
    paid = gateway.confirm_intent(intent.id, payment_method="pm_card_visa", idempotency_key="pay-2")
    assert (paid.status, paid.last_error) == (IntentStatus.SUCCEEDED, "")


def test_authentication_required_then_authenticated_succeeds(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata={}
    )
    # when
    pending = gateway.confirm_intent(
        intent.id, payment_method="pm_card_authenticationRequired", idempotency_key="pay-1"
    )
    stripe_fake.authenticate(intent.id)
    # then
    assert pending.status == IntentStatus.REQUIRES_ACTION
    assert pending.amount_received == 0
    paid = gateway.retrieve_intent(intent.id)
    assert (paid.status, paid.amount_received) == (IntentStatus.SUCCEEDED, 3500)


def test_cancel_of_an_unpaid_intent_cancels_it(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata={}
    )
    # when
    canceled = gateway.cancel_intent(intent.id, idempotency_key="cancel-1")
    # then
    assert canceled.status == IntentStatus.CANCELED
    assert stripe_fake.cancel_calls == 1


def test_cancel_of_a_succeeded_intent_returns_it_instead_of_raising(
    stripe_fake: StripeFake,
) -> None:
    # given: the patient paid just before the hold expired
    gateway = StripeGateway()
    intent_id = paid_intent(gateway)
    # when
    result = gateway.cancel_intent(intent_id, idempotency_key="cancel-1")
    # then
    assert (result.status, result.amount_received) == (IntentStatus.SUCCEEDED, 3500)
    assert stripe_fake.cancel_calls == 0


def test_refund_beyond_the_amount_received_raises_gateway_error(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent_id = paid_intent(gateway, amount=3500)
    gateway.refund(intent_id, amount=3000, idempotency_key="refund-1")
    # when / then
    with pytest.raises(GatewayError):
        gateway.refund(intent_id, amount=1000, idempotency_key="refund-2")
    assert stripe_fake.refund_calls == 1


def test_retrieve_returns_the_refunds_oldest_first(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent_id = paid_intent(gateway, amount=3500)
    # when
    first = gateway.refund(intent_id, amount=500, idempotency_key="refund-1")
    second = gateway.refund(intent_id, amount=3000, idempotency_key="refund-2")
    # then
    intent = gateway.retrieve_intent(intent_id)
    assert intent.refunds == (first, second)
    assert sum(refund.amount for refund in intent.refunds) == intent.amount_received


def test_retrieve_of_an_unknown_intent_raises_gateway_error(stripe_fake: StripeFake) -> None:
    with pytest.raises(GatewayError):
        StripeGateway().retrieve_intent("pi_missing")


def test_a_wrong_secret_key_raises_gateway_error(stripe_fake: StripeFake, settings: Any) -> None:
    # given
    settings.STRIPE_SECRET_KEY = "sk_test_other"
    # when / then
    with pytest.raises(GatewayError):
        StripeGateway().create_intent(
            amount=3500, currency="eur", idempotency_key="create-1", metadata={}
        )
    assert stripe_fake.create_calls == 0


def test_unreachable_api_raises_gateway_error_within_the_timeout(
    settings: Any, closed_port: int
) -> None:
    # given
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed_port}"
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    gateway = StripeGateway()
    started = time.monotonic()
    # when / then
    with pytest.raises(GatewayError):
        gateway.retrieve_intent("pi_any")
    assert time.monotonic() - started < 5  # 3 attempts, at most 1.5 s of backoff between them


def test_unresponsive_api_times_out_with_gateway_error(
    settings: Any, unresponsive_port: int
) -> None:
    # given
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{unresponsive_port}"
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    gateway = StripeGateway()
    started = time.monotonic()
    # when / then
    with pytest.raises(GatewayError):
        gateway.create_intent(amount=3500, currency="eur", idempotency_key="create-1", metadata={})
    assert 0.9 <= time.monotonic() - started < 5  # three attempts, each cut at 0.3 s


def test_client_config_gives_the_publishable_key(stripe_fake: StripeFake) -> None:
    gateway: PaymentGateway = StripeGateway()  # mypy checks it meets the Protocol
    assert gateway.name == "stripe"
    assert gateway.client_config() == {"publishable_key": "pk_test_fake"}


def test_state_changes_record_stripes_events_in_order(stripe_fake: StripeFake) -> None:
    # given
    gateway = StripeGateway()
    intent = gateway.create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata=METADATA
    )
    # when
    gateway.confirm_intent(
        intent.id, payment_method="pm_card_authenticationRequired", idempotency_key="pay-1"
    )
    stripe_fake.authenticate(intent.id)
    refund = gateway.refund(intent.id, amount=3500, idempotency_key="refund-1")
    # then
    assert stripe_fake.event_types() == [
        "payment_intent.created",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "charge.refunded",
        "refund.created",
    ]
    charge = stripe_fake.events[3]["data"]["object"]
    assert (charge["payment_intent"], charge["amount_refunded"]) == (intent.id, 3500)
    assert charge["refunds"]["data"][0]["id"] == refund.id
    assert stripe_fake.events[4]["data"]["object"]["id"] == refund.id
    assert stripe_fake.events[0]["request"]["idempotency_key"] == "create-1"


def test_construct_event_accepts_a_correctly_signed_event(stripe_fake: StripeFake) -> None:
    # given
    intent = StripeGateway().create_intent(
        amount=3500, currency="eur", idempotency_key="create-1", metadata=METADATA
    )
    payload, signature = stripe_fake.delivery(stripe_fake.events[0])
    # when
    event = construct_event(payload, signature)
    # then
    assert event.id == stripe_fake.events[0]["id"]
    assert event.type == "payment_intent.created"
    assert event.data.object["id"] == intent.id


def test_construct_event_rejects_a_bad_signature(stripe_fake: StripeFake) -> None:
    # given
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "ping"}).encode()
    # when / then
    with pytest.raises(stripe.SignatureVerificationError):
        construct_event(payload, sign(payload, "whsec_someone_else"))
    with pytest.raises(stripe.SignatureVerificationError):
        construct_event(payload + b" ", sign(payload, "whsec_test"))


def test_construct_event_rejects_a_stale_timestamp(stripe_fake: StripeFake) -> None:
    # given: signed correctly, but more than 300 s ago (a replayed delivery)
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "ping"}).encode()
    signature = sign(payload, "whsec_test", timestamp=int(time.time()) - 301)
    # when / then
    with pytest.raises(stripe.SignatureVerificationError):
        construct_event(payload, signature)


def test_construct_event_rejects_a_signed_body_that_is_not_json(stripe_fake: StripeFake) -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        construct_event(b"not json", sign(b"not json", "whsec_test"))
