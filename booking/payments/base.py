"""The gateway interface (STYLE "Payments and tasks"). Our records hold money as Decimal +
currency; a gateway speaks minor units (cents) and lower-case ISO currency codes, as Stripe.

A gateway is the source of truth about an intent: services read its state back
(`retrieve_intent`) and apply it to our records, so an event's order or repetition never
matters. Every write carries an idempotency key: a retried call (a timeout, a rolled-back
transaction) gets the first call's answer instead of acting twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

# ISO 4217 currencies without a minor unit (Stripe's "zero-decimal" list, the common ones).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                          "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})  # fmt: skip


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal major units → integer minor units (35.00 USD → 3500)."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return int(amount.scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    quantum: Decimal = Decimal(1).scaleb(-exponent)
    return Decimal(amount).scaleb(-exponent).quantize(quantum)


class IntentStatus:
    """Stripe's PaymentIntent statuses; the dev gateway uses the same words."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class RefundState:
    id: str
    amount: int  # minor units
    status: str  # "pending" | "succeeded" | "failed" | "canceled"


@dataclass(frozen=True, slots=True)
class IntentState:
    id: str
    status: str  # IntentStatus
    amount: int  # minor units
    currency: str  # lower case, as Stripe
    amount_received: int = 0
    client_secret: str = ""
    last_error: str = ""  # the decline message of the last failed attempt
    refunds: tuple[RefundState, ...] = field(default_factory=tuple)
    metadata: dict[str, str] = field(default_factory=dict)


class GatewayError(Exception):
    """The gateway could not be reached or refused the call (not a card decline: a decline
    is an intent state)."""


class PaymentGateway(Protocol):
    name: str  # "dev" | "stripe"

    def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> IntentState: ...

    def retrieve_intent(self, intent_id: str) -> IntentState:
        """The intent with its refunds."""
        ...

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> IntentState:
        """Cancel an unpaid intent; an intent that succeeded meanwhile is returned as is."""
        ...

    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> RefundState: ...

    def client_config(self) -> dict[str, str]:
        """What the web app needs to collect a payment (Stripe: the publishable key)."""
        ...
