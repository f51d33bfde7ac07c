"""The Stripe gateway: the only module that imports `stripe` (STYLE "One owner per integration").

Every call goes through one `StripeClient` built from settings: the API version pinned (a new
SDK must not change the shapes we read), the secret key on the client rather than the global
`stripe.api_key`, a timeout and a small retry budget. Every write carries the caller's
idempotency key, so the SDK's retries and ours replay Stripe's first answer instead of acting
twice. Settings (all optional except the keys):

- `STRIPE_SECRET_KEY`, `STRIPE_PUBLISHABLE_KEY`, `STRIPE_WEBHOOK_SECRET`
- `STRIPE_API_VERSION` (default `DEFAULT_API_VERSION`), `STRIPE_API_BASE` (tests point it at
  `tests/booking/stripe_fake.py`), `STRIPE_TIMEOUT_SECONDS` (default 10)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from booking.payments.base import GatewayError, IntentState, RefundState

logger = logging.getLogger(__name__)

# The version stripe-python 16.1 is generated against; bump both together, deliberately.
DEFAULT_API_VERSION = "2026-10-28.endive"
DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300
# What a bad or stale webhook signature raises, for the webhook view (which must not import
# stripe itself).
SignatureError = stripe.SignatureVerificationError


def construct_event(payload: bytes, signature: str) -> stripe.Event:
    """Verify a webhook body against its `Stripe-Signature` header and parse it.

    Raises `stripe.SignatureVerificationError` (bad or stale signature, older than 300 s) or
    `ValueError` (not JSON / not an event), as stripe does; the webhook view answers 400.
    """
    secret: str = getattr(settings, "STRIPE_WEBHOOK_SECRET", "")
    if not secret:  # an empty HMAC key would let anyone sign
        raise ImproperlyConfigured("construct_event needs STRIPE_WEBHOOK_SECRET")
    event: stripe.Event = stripe.Webhook.construct_event(
        payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
    )
    return event


@contextmanager
def _gateway_errors(operation: str, intent_id: str = "") -> Iterator[None]:
    """Stripe's errors → `GatewayError`. Card errors pass through: a decline is an intent
    state, and the one call that can meet it (`confirm_intent`) reads that state back."""
    try:
        yield
    except stripe.CardError:
        raise
    except stripe.StripeError as exc:
        logger.warning(
            "stripe %s failed",
            operation,
            extra={
                "payment_intent": intent_id,
                "stripe_error": type(exc).__name__,
                "stripe_code": exc.code,
                "stripe_request_id": exc.request_id,
                "http_status": exc.http_status,
            },
        )
        raise GatewayError(f"stripe {operation} failed: {exc.user_message or exc}") from exc


def _refund_state(refund: stripe.Refund) -> RefundState:
    return RefundState(id=refund.id, amount=refund.amount, status=refund.status or "pending")


class StripeGateway:
    """`PaymentGateway` over Stripe PaymentIntents. Settings are read when it is built."""

    name = "stripe"

    def __init__(self) -> None:
        secret_key: str = getattr(settings, "STRIPE_SECRET_KEY", "")
        if not secret_key:
            raise ImproperlyConfigured("StripeGateway needs STRIPE_SECRET_KEY")
        timeout = float(getattr(settings, "STRIPE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
        self._client = stripe.StripeClient(
            secret_key,
            stripe_version=getattr(settings, "STRIPE_API_VERSION", DEFAULT_API_VERSION),
            base_addresses={"api": getattr(settings, "STRIPE_API_BASE", DEFAULT_API_BASE)},
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> IntentState:
        with _gateway_errors("create_intent"):
            intent = self._client.v1.payment_intents.create(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                {"idempotency_key": idempotency_key},
            )
        return self._intent_state(intent, refunds=())

    def retrieve_intent(self, intent_id: str) -> IntentState:
        """The intent with its refunds, oldest first (two reads: the intent, then its refunds)."""
        with _gateway_errors("retrieve_intent", intent_id):
            intent = self._client.v1.payment_intents.retrieve(intent_id)
            page = self._client.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
            refunds = [_refund_state(refund) for refund in page.auto_paging_iter()]
        # Stripe lists newest first.
        return self._intent_state(intent, refunds=tuple(reversed(refunds)))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> IntentState:
        """Cancel an unpaid intent; one that succeeded (or was canceled) meanwhile is returned
        as it is, and the caller acts on its status."""
        with _gateway_errors("cancel_intent", intent_id):
            try:
                self._client.v1.payment_intents.cancel(
                    intent_id, options={"idempotency_key": idempotency_key}
                )
            except stripe.InvalidRequestError as exc:
                if exc.code != "payment_intent_unexpected_state":
                    raise
        return self.retrieve_intent(intent_id)

    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> RefundState:
        with _gateway_errors("refund", intent_id):
            refund = self._client.v1.refunds.create(
                {"payment_intent": intent_id, "amount": amount},
                {"idempotency_key": idempotency_key},
            )
        return _refund_state(refund)

    def confirm_intent(
        self, intent_id: str, *, payment_method: str, idempotency_key: str, return_url: str = ""
    ) -> IntentState:
        """Confirm server-side with a payment method (tests use Stripe's `pm_card_*` ids).

        A decline is not an error: Stripe answers 402, and the intent is back in
        `requires_payment_method` with `last_error` set, so the state is read back. Stripe
        requires a `return_url` for intents that allow redirect-based methods; it defaults to
        `settings.PUBLIC_URL` (a card payment never goes there).
        """
        try:
            with _gateway_errors("confirm_intent", intent_id):
                self._client.v1.payment_intents.confirm(
                    intent_id,
                    {
                        "payment_method": payment_method,
                        "return_url": return_url or f"{getattr(settings, 'PUBLIC_URL', '')}/",
                    },
                    {"idempotency_key": idempotency_key},
                )
        except stripe.CardError:
            pass
        return self.retrieve_intent(intent_id)

    def client_config(self) -> dict[str, str]:
        return {"publishable_key": getattr(settings, "STRIPE_PUBLISHABLE_KEY", "")}

    @staticmethod
    def _intent_state(
        intent: stripe.PaymentIntent, *, refunds: tuple[RefundState, ...]
    ) -> IntentState:
        last_error = intent.last_payment_error
        return IntentState(
            id=intent.id,
            status=intent.status,
            amount=intent.amount,
            currency=intent.currency,
            amount_received=intent.amount_received,
            client_secret=intent.client_secret or "",
            last_error=(last_error.message or "") if last_error else "",
            refunds=refunds,
            metadata={key: str(value) for key, value in intent.metadata.to_dict().items()},
        )
