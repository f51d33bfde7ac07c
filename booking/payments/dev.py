"""The dev gateway: the embedded default, no keys, no network. It keeps its intents in its
own tables (as Stripe keeps them on its side) and answers with canned results per test card,
like Saleor's dummy gateway. The in-app checkout page collects the card and calls
`confirm_card`; everything else goes through the `PaymentGateway` interface."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from booking.payments.base import GatewayError, IntentState, IntentStatus, RefundState
from booking.payments.models import DevIntent, DevRefund

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NEEDS_AUTHENTICATION = "4000002500003155"
DECLINE_MESSAGE = "Your card was declined."
AUTHENTICATION_FAILED = "We could not confirm this payment with your bank."
UNKNOWN_CARD = "Use one of the test cards shown on this page."
TEST_CARDS = {
    CARD_SUCCEEDS: "Succeeds",
    CARD_DECLINED: "Declined",
    CARD_NEEDS_AUTHENTICATION: "Needs an extra confirmation step",
}


def _state(intent: DevIntent) -> IntentState:
    return IntentState(
        id=intent.id,
        status=intent.status,
        amount=intent.amount,
        currency=intent.currency,
        amount_received=intent.amount_received,
        client_secret=intent.client_secret,
        last_error=intent.last_error,
        refunds=tuple(
            RefundState(id=r.id, amount=r.amount, status="succeeded") for r in intent.refunds.all()
        ),
        metadata=dict(intent.metadata),
    )


class DevGateway:
    name = "dev"

    def _locked(self, intent_id: str) -> DevIntent:
        intent = DevIntent.objects.select_for_update().filter(id=intent_id).first()
        if intent is None:
            raise GatewayError(f"No such payment intent: {intent_id}")
        return intent

    def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> IntentState:
        existing = DevIntent.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _state(existing)
        intent_id = "dev_pi_" + secrets.token_hex(12)
        try:
            with transaction.atomic():
                intent = DevIntent.objects.create(
                    id=intent_id,
                    idempotency_key=idempotency_key,
                    amount=amount,
                    currency=currency.lower(),
                    status=IntentStatus.REQUIRES_PAYMENT_METHOD,
                    metadata=metadata,
                    client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
                )
        except IntegrityError:  # a concurrent call with the same key won
            intent = DevIntent.objects.get(idempotency_key=idempotency_key)
        return _state(intent)

    def retrieve_intent(self, intent_id: str) -> IntentState:
        intent = DevIntent.objects.filter(id=intent_id).first()
        if intent is None:
            raise GatewayError(f"No such payment intent: {intent_id}")
        return _state(intent)

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> IntentState:
        with transaction.atomic():
            intent = self._locked(intent_id)
            if intent.status not in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
                intent.status = IntentStatus.CANCELED
                intent.save(update_fields=["status"])
        return _state(intent)

    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> RefundState:
        with transaction.atomic():
            intent = self._locked(intent_id)
            done = DevRefund.objects.filter(idempotency_key=idempotency_key).first()
            if done is not None:
                return RefundState(id=done.id, amount=done.amount, status="succeeded")
            refunded = sum(r.amount for r in intent.refunds.all())
            if intent.status != IntentStatus.SUCCEEDED:
                raise GatewayError("This payment has not succeeded; there is nothing to refund.")
            if amount <= 0 or refunded + amount > intent.amount_received:
                raise GatewayError("The refund is more than what is left of the payment.")
            refund = DevRefund.objects.create(
                id="dev_re_" + secrets.token_hex(12),
                intent=intent,
                idempotency_key=idempotency_key,
                amount=amount,
            )
        return RefundState(id=refund.id, amount=refund.amount, status="succeeded")

    def client_config(self) -> dict[str, str]:
        return {"publishable_key": ""}

    # -------------------------------------------------------------- the checkout page's side

    def confirm_card(self, intent_id: str, *, card_number: str) -> IntentState:
        """What the card form does with the card: a canned answer per test card."""
        with transaction.atomic():
            intent = self._locked(intent_id)
            if intent.status in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
                return _state(intent)
            number = "".join(ch for ch in card_number if ch.isdigit())
            if number == CARD_SUCCEEDS:
                intent.status, intent.last_error = IntentStatus.SUCCEEDED, ""
                intent.amount_received = intent.amount
            elif number == CARD_NEEDS_AUTHENTICATION:
                intent.status, intent.last_error = IntentStatus.REQUIRES_ACTION, ""
            else:
                intent.status = IntentStatus.REQUIRES_PAYMENT_METHOD
                intent.last_error = DECLINE_MESSAGE if number == CARD_DECLINED else UNKNOWN_CARD
            intent.save(update_fields=["status", "last_error", "amount_received"])
        return _state(intent)

    def authenticate(self, intent_id: str, *, approve: bool) -> IntentState:
        """The bank's extra step (3-D Secure): approved, the payment succeeds."""
        with transaction.atomic():
            intent = self._locked(intent_id)
            if intent.status != IntentStatus.REQUIRES_ACTION:
                return _state(intent)
            if approve:
                intent.status, intent.amount_received = IntentStatus.SUCCEEDED, intent.amount
            else:
                intent.status = IntentStatus.REQUIRES_PAYMENT_METHOD
                intent.last_error = AUTHENTICATION_FAILED
            intent.save(update_fields=["status", "last_error", "amount_received"])
        return _state(intent)
