"""Payment reads."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from uuid import UUID

from booking.payments.models import PAYABLE, Payment
from chat.models import Message


def card_conversations(payment_ids: list[UUID]) -> dict[str, str]:
    """Payment id → the conversation its card is in."""
    rows = Message.objects.filter(
        target_type="booking.payment",
        target_id__in=[str(i) for i in payment_ids],
        action="booking.request_payment",
    ).values_list("target_id", "conversation_id")
    return {target: str(conversation) for target, conversation in rows}


def outstanding(payments: list[Payment]) -> dict[str, Decimal]:
    """What is still due, per currency."""
    due: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        if payment.status in PAYABLE:
            due[payment.currency] += payment.amount
    return dict(sorted(due.items()))
