"""Stripe's webhook (API.md: POST /api/payments/stripe/webhook/). The signature is checked
with the signing secret over the raw body; each event is recorded once by id and applied by
reading the intent's current state back from Stripe (booking.payments.services), so events
may come late, twice or in any order. Types we do not use are acknowledged with 200."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.payments import services
from careconnect.accounts.permissions import Anyone
from careconnect.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

# The events whose object leads to a payment intent: the intent itself, or a charge or
# refund naming it.
INTENT_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
)
REFUND_EVENTS = (
    "charge.refunded",
    "charge.succeeded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
)


class BadSignatureError(InvalidInputError):
    code = "bad_signature"
    default_message = "The webhook signature is missing, wrong or too old."


class BadEventError(InvalidInputError):
    code = "invalid_event"
    default_message = "The event is not a Stripe event we can read."


def _intent_of(event: dict[str, Any]) -> str:
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        raise BadEventError()
    if event["type"] in INTENT_EVENTS:
        return str(obj.get("id") or "")
    if event["type"] in REFUND_EVENTS:
        intent = obj.get("payment_intent")
        if isinstance(intent, dict):
            intent = intent.get("id")
        return str(intent or "")
    return ""


class StripeWebhookApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [Anyone]

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={200: OpenApiResponse(description="Received"), 400: OpenApiResponse()},
    )
    def post(self, request: Request) -> Response:
        if settings.PAYMENT_GATEWAY != "stripe" or not settings.STRIPE_WEBHOOK_SECRET:
            raise NotFoundError()
        from booking.payments.stripe_gw import SignatureError, construct_event

        payload = request.body
        signature = request.headers.get("Stripe-Signature", "")
        try:
            construct_event(payload, signature)
        except SignatureError as exc:
            raise BadSignatureError() from exc
        except ValueError as exc:
            raise BadEventError() from exc
        try:
            event = json.loads(payload)
            event_id, event_type = str(event["id"]), str(event["type"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadEventError() from exc
        if not event_id.startswith("evt_"):
            raise BadEventError()
        applied = services.apply_gateway_event(
            gateway_name="stripe",
            event_id=event_id,
            type_=event_type[:100],
            intent_id=_intent_of(event),
        )
        return Response({"received": True, "duplicate": not applied})
