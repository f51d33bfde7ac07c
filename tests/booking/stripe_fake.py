"""A local fake of the Stripe API, for the real SDK over real HTTP (`StripeGateway` pointed at it
through `settings.STRIPE_API_BASE`).

It serves only what `booking.payments.stripe_gw` uses, with Stripe's shapes and rules:

- `POST /v1/payment_intents`, `GET /v1/payment_intents/{id}`,
  `POST /v1/payment_intents/{id}/confirm` (test payment methods in `PAYMENT_METHODS`),
  `POST /v1/payment_intents/{id}/cancel`, `POST /v1/refunds`, `GET /v1/refunds?payment_intent=`.
- Fake-only, no key needed (the customer's browser finishing 3-D Secure):
  `POST /_fake/payment_intents/{id}/authenticate` → succeeded,
  `POST /_fake/payment_intents/{id}/fail_authentication` → requires_payment_method.
- `Authorization: Bearer <secret_key>` is required on `/v1/` (401 otherwise); every request is
  kept in `requests` (headers lower-cased) so tests can assert `stripe-version`.
- `Idempotency-Key` on a POST: the first response (errors included, parameter errors not) is
  replayed byte for byte with `Idempotent-Replayed: true`; the same key with other parameters
  or on another endpoint is a 400 `idempotency_error`. The counters (`create_calls`,
  `confirm_calls`, `cancel_calls`, `refund_calls`) count real side effects only.
- Every state change appends the event Stripe would deliver to `events`, in order; `delivery()`
  and `sign()` turn one into a webhook body and its `Stripe-Signature` header.

Not modelled: minimum charge amounts, failed charges on a decline (`latest_charge` stays null
until a payment succeeds), manual capture, customers, pagination of anything but refunds.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from booking.payments.stripe_gw import DEFAULT_API_VERSION

JSON = dict[str, Any]

SECRET_KEY = "sk_test_fake"
PUBLISHABLE_KEY = "pk_test_fake"
WEBHOOK_SECRET = "whsec_test"

CANCELABLE = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)
CONFIRMABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})
CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})


@dataclass(frozen=True, slots=True)
class Decline:
    decline_code: str
    message: str
    code: str = "card_declined"


# Stripe's test PaymentMethods: "succeeded", "requires_action" or a Decline.
PAYMENT_METHODS: dict[str, str | Decline] = {
    "pm_card_visa": "succeeded",
    "pm_card_mastercard": "succeeded",
    "pm_card_authenticationRequired": "requires_action",
    "pm_card_chargeDeclined": Decline("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": Decline(
        "insufficient_funds", "Your card has insufficient funds."
    ),
}
AUTHENTICATION_FAILURE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send with `payload`."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256)
    return f"t={signed_at},v1={digest.hexdigest()}"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class StripeApiError(Exception):
    """An error answer in Stripe's shape. `replayable=False`: a parameter error, which Stripe
    does not save under the idempotency key (the request never started executing)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        replayable: bool = True,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.replayable = replayable
        self.body: JSON = {"error": {"type": error_type, "message": message, **extra}}
        if code:
            self.body["error"]["code"] = code
            self.body["error"]["doc_url"] = f"https://docs.stripe.com/error-codes/{code}"
        if param:
            self.body["error"]["param"] = param


def _param_error(message: str, param: str, code: str = "parameter_invalid") -> StripeApiError:
    return StripeApiError(400, message, code=code, param=param, replayable=False)


def _nest(pairs: list[tuple[str, str]]) -> JSON:
    """Form fields as the SDK encodes them (`metadata[key]=v`, `a[b][c]=v`) → nested dicts."""
    params: JSON = {}
    for key, value in pairs:
        head, *rest = re.findall(r"[^\[\]]+", key) or [key]
        target = params
        for part in [head, *rest][:-1]:
            target = target.setdefault(part, {})
        target[[head, *rest][-1]] = value
    return params


def _int_param(params: JSON, name: str, *, required: bool) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise _param_error(f"Missing required param: {name}.", name, "parameter_missing")
        return None
    if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw):
        raise _param_error(f"Invalid integer: {raw}", name, "parameter_invalid_integer")
    value = int(raw)
    if value < 1:
        raise _param_error(
            "This value must be greater than or equal to 1.", name, "parameter_invalid_integer"
        )
    return value


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    params: JSON
    headers: dict[str, str]  # keys lower-cased


@dataclass(slots=True)
class _Stored:
    fingerprint: tuple[str, str, str]
    status: int
    body: bytes
    request_id: str


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class StripeFake:
    """The fake's state and HTTP server. `start()` binds 127.0.0.1 on a free port (`url`)."""

    def __init__(self, *, secret_key: str = SECRET_KEY, api_version: str = DEFAULT_API_VERSION):
        self.secret_key = secret_key
        self.api_version = api_version  # the webhook endpoint's version, stamped on events
        self.intents: dict[str, JSON] = {}
        self.charges: dict[str, JSON] = {}
        self.refunds: dict[str, JSON] = {}  # insertion order = creation order
        self.events: list[JSON] = []
        self.requests: list[RecordedRequest] = []
        self.create_calls = 0
        self.confirm_calls = 0
        self.cancel_calls = 0
        self.refund_calls = 0
        self._idempotent: dict[str, _Stored] = {}
        self._lock = threading.RLock()  # one request at a time: no interleaved state changes
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._request: tuple[str, str | None] = ("", None)  # (request id, idempotency key)

    # lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "StripeFake.start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StripeFake:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(  # a short poll: shutdown() waits for one
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="stripe-fake"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    # helpers for tests

    def authenticate(self, intent_id: str) -> JSON:
        """The customer passes 3-D Secure (through the fake-only endpoint, over HTTP)."""
        return self._post_fake(f"/_fake/payment_intents/{intent_id}/authenticate")

    def fail_authentication(self, intent_id: str) -> JSON:
        return self._post_fake(f"/_fake/payment_intents/{intent_id}/fail_authentication")

    def event_types(self) -> list[str]:
        return [event["type"] for event in self.events]

    def delivery(
        self, event: JSON, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """A webhook body for `event` and its `Stripe-Signature` header."""
        payload = json.dumps(event).encode()
        return payload, sign(payload, secret, timestamp)

    def _post_fake(self, path: str) -> JSON:
        request = urllib.request.Request(self.url + path, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            body: JSON = json.loads(response.read())
        return body

    # HTTP

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Response:
        split = urlsplit(target)
        path = split.path.rstrip("/")
        pairs = parse_qsl(body.decode() if method == "POST" else split.query, True)
        params = _nest(pairs)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
            request_id = _new_id("req")
            response_headers = {"request-id": request_id}
            if version := headers.get("stripe-version"):
                response_headers["stripe-version"] = version
            key = headers.get("idempotency-key") if method == "POST" else None
            if key:
                response_headers["idempotency-key"] = key
            fingerprint = (method, path, json.dumps(params, sort_keys=True))
            try:
                if path.startswith("/v1/"):
                    self._authorize(headers.get("authorization", ""))
                if key and (stored := self._idempotent.get(key)):
                    return self._replay(stored, fingerprint, key, response_headers)
                # Events from the customer's side (3-D Secure) carry no API request.
                self._request = (request_id, key) if path.startswith("/v1/") else ("", None)
                status, payload = self._route(method, path, params)
            except StripeApiError as exc:
                status, payload = exc.status, exc.body
                replayable = exc.replayable and exc.status != 401
            else:
                replayable = True
            encoded = json.dumps(payload, indent=2).encode()
            if key and replayable and path.startswith("/v1/"):
                self._idempotent[key] = _Stored(fingerprint, status, encoded, request_id)
            return _Response(status, encoded, response_headers)

    def _authorize(self, authorization: str) -> None:
        if not authorization:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_"
                "SECRET_KEY').",
            )
        if authorization != f"Bearer {self.secret_key}":
            shown = authorization.removeprefix("Bearer ")
            raise StripeApiError(401, f"Invalid API Key provided: {shown[:8]}****{shown[-4:]}")

    def _replay(
        self,
        stored: _Stored,
        fingerprint: tuple[str, str, str],
        key: str,
        headers: dict[str, str],
    ) -> _Response:
        if stored.fingerprint[:2] != fingerprint[:2]:
            raise StripeApiError(
                400,
                f"Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{stored.fingerprint[1]}' vs '{fingerprint[1]}'). Try using a "
                f"key other than '{key}' if you meant to execute a different request.",
                error_type="idempotency_error",
                replayable=False,
            )
        if stored.fingerprint != fingerprint:
            raise StripeApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                error_type="idempotency_error",
                replayable=False,
            )
        replay_headers = {**headers, "idempotent-replayed": "true"}
        replay_headers["original-request"] = stored.request_id
        return _Response(stored.status, stored.body, replay_headers)

    def _route(self, method: str, path: str, params: JSON) -> tuple[int, JSON]:
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["v1", "payment_intents"]:
                return 200, self._create_intent(params)
            case "GET", ["v1", "payment_intents", intent_id]:
                return 200, self._intent(intent_id, param="intent", status=404)
            case "POST", ["v1", "payment_intents", intent_id, "confirm"]:
                return self._confirm(intent_id, params)
            case "POST", ["v1", "payment_intents", intent_id, "cancel"]:
                return 200, self._cancel(intent_id, params)
            case "POST", ["v1", "refunds"]:
                return 200, self._create_refund(params)
            case "GET", ["v1", "refunds"]:
                return 200, self._list_refunds(params)
            case "POST", ["_fake", "payment_intents", intent_id, "authenticate"]:
                return 200, self._finish_authentication(intent_id, passed=True)
            case "POST", ["_fake", "payment_intents", intent_id, "fail_authentication"]:
                return 200, self._finish_authentication(intent_id, passed=False)
        raise StripeApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            replayable=False,
        )

    # payment intents

    def _intent(self, intent_id: str, *, param: str, status: int = 400) -> JSON:
        if intent_id not in self.intents:
            raise StripeApiError(
                status,
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param=param,
                replayable=False,
            )
        return self.intents[intent_id]

    def _create_intent(self, params: JSON) -> JSON:
        amount = _int_param(params, "amount", required=True)
        currency = params.get("currency")
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise _param_error("Missing required param: currency.", "currency", "parameter_missing")
        metadata = params.get("metadata") or {}
        automatic = params.get("automatic_payment_methods")
        intent_id = _new_id("pi")
        intent: JSON = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": (
                {
                    "enabled": automatic.get("enabled") == "true",
                    "allow_redirects": automatic.get("allow_redirects", "always"),
                }
                if isinstance(automatic, dict)
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": currency.lower(),
            "customer": None,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(metadata),
            "next_action": None,
            "payment_method": None,
            "payment_method_types": ["card"],
            "return_url": None,
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        self.create_calls += 1
        self._emit("payment_intent.created", intent)
        return intent

    def _unexpected_state(self, intent: JSON, action: str, allowed: frozenset[str]) -> None:
        if intent["status"] not in allowed:
            raise StripeApiError(
                400,
                f"You cannot {action} this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be {action}ed: {', '.join(sorted(allowed))}.",
                code="payment_intent_unexpected_state",
                payment_intent=copy.deepcopy(intent),
            )

    def _confirm(self, intent_id: str, params: JSON) -> tuple[int, JSON]:
        intent = self._intent(intent_id, param="intent", status=404)
        self._unexpected_state(intent, "confirm", CONFIRMABLE)
        payment_method = params.get("payment_method")
        if not isinstance(payment_method, str):
            raise _param_error(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                "payment_method",
                "payment_intent_unexpected_state",
            )
        if payment_method not in PAYMENT_METHODS:
            raise StripeApiError(
                400,
                f"No such PaymentMethod: '{payment_method}'",
                code="resource_missing",
                param="payment_method",
            )
        return_url = params.get("return_url") or intent["return_url"]
        automatic = intent["automatic_payment_methods"] or {}
        if (
            automatic.get("enabled")
            and automatic.get("allow_redirects") != "never"
            and not (return_url)
        ):
            raise _param_error(
                "A `return_url` must be specified because this Payment Intent is configured to "
                "automatically accept the payment methods enabled in the Dashboard, some of "
                "which may require a full page redirect to succeed. If you do not want to accept "
                "redirect-based payment methods, set `automatic_payment_methods[enabled]` to "
                "`true` and `automatic_payment_methods[allow_redirects]` to `never` when "
                "creating Setup Intents and Payment Intents.",
                "return_url",
            )
        self.confirm_calls += 1
        outcome = PAYMENT_METHODS[payment_method]
        intent["payment_method"] = _new_id("pm")
        intent["return_url"] = return_url
        intent["next_action"] = None
        if isinstance(outcome, Decline):
            intent["status"] = "requires_payment_method"
            error: JSON = {
                "type": "card_error",
                "code": outcome.code,
                "decline_code": outcome.decline_code,
                "message": outcome.message,
                "doc_url": f"https://docs.stripe.com/error-codes/{outcome.code}",
                "payment_method": {"id": intent["payment_method"], "object": "payment_method"},
            }
            intent["last_payment_error"] = error
            intent["payment_method"] = None
            self._emit("payment_intent.payment_failed", intent)
            return 402, {"error": {**error, "payment_intent": copy.deepcopy(intent)}}
        intent["last_payment_error"] = None
        if outcome == "requires_action":
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            }
            self._emit("payment_intent.requires_action", intent)
        else:
            self._succeed(intent)
        return 200, intent

    def _succeed(self, intent: JSON) -> None:
        charge_id = _new_id("ch")
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "captured": True,
            "created": int(time.time()),
            "currency": intent["currency"],
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
            "status": "succeeded",
        }
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge_id,
            next_action=None,
            last_payment_error=None,
        )
        self._emit("payment_intent.succeeded", intent)

    def _finish_authentication(self, intent_id: str, *, passed: bool) -> JSON:
        intent = self._intent(intent_id, param="intent", status=404)
        if intent["status"] != "requires_action":
            raise StripeApiError(400, f"payment_intent {intent_id} is not awaiting 3-D Secure")
        if passed:
            self._succeed(intent)
        else:
            intent.update(
                status="requires_payment_method",
                next_action=None,
                payment_method=None,
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "payment_intent_authentication_failure",
                    "message": AUTHENTICATION_FAILURE,
                },
            )
            self._emit("payment_intent.payment_failed", intent)
        return intent

    def _cancel(self, intent_id: str, params: JSON) -> JSON:
        intent = self._intent(intent_id, param="intent", status=404)
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in CANCELLATION_REASONS:
            raise _param_error(f"Invalid cancellation_reason: {reason}", "cancellation_reason")
        self._unexpected_state(intent, "cancel", CANCELABLE)
        intent.update(
            status="canceled",
            canceled_at=int(time.time()),
            cancellation_reason=reason,
            next_action=None,
        )
        self.cancel_calls += 1
        self._emit("payment_intent.canceled", intent)
        return intent

    # refunds

    def _create_refund(self, params: JSON) -> JSON:
        intent_id = params.get("payment_intent")
        if not isinstance(intent_id, str):
            raise _param_error(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                "payment_intent",
                "parameter_missing",
            )
        intent = self._intent(intent_id, param="payment_intent")
        amount = _int_param(params, "amount", required=False)
        charge = self.charges.get(intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or charge is None:
            raise StripeApiError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if charge["refunded"] or remaining == 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large",
                param="amount",
            )
        refund_id = _new_id("re")
        refund: JSON = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": _new_id("txn"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": intent_id,
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        self.refunds[refund_id] = refund
        self.refund_calls += 1
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        charge_refunds = charge["refunds"]
        charge_refunds["data"].insert(0, refund)
        charge_refunds["total_count"] += 1
        self._emit("charge.refunded", charge)
        self._emit("refund.created", refund)
        return refund

    def _list_refunds(self, params: JSON) -> JSON:
        intent_id = params.get("payment_intent")
        if intent_id is not None:
            self._intent(intent_id, param="payment_intent")
        limit = _int_param(params, "limit", required=False) or 10
        newest_first = [
            refund
            for refund in reversed(self.refunds.values())
            if intent_id is None or refund["payment_intent"] == intent_id
        ]
        if starting_after := params.get("starting_after"):
            ids = [refund["id"] for refund in newest_first]
            newest_first = newest_first[ids.index(starting_after) + 1 :]
        return {
            "object": "list",
            "data": newest_first[: min(limit, 100)],
            "has_more": len(newest_first) > min(limit, 100),
            "url": "/v1/refunds",
        }

    # events

    def _emit(self, event_type: str, obj: JSON) -> None:
        request_id, idempotency_key = self._request
        self.events.append(
            {
                "id": _new_id("evt"),
                "object": "event",
                "api_version": self.api_version,
                "created": int(time.time()),
                "data": {"object": copy.deepcopy(obj)},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": request_id or None, "idempotency_key": idempotency_key},
                "type": event_type,
            }
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: StripeFake


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = fake.handle(method, self.path, headers, body)
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows failures, not access logs."""


@pytest.fixture
def stripe_fake(settings: Any) -> Iterator[StripeFake]:
    """A running fake, with settings pointing `StripeGateway` at it."""
    fake = StripeFake().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PAYMENT_GATEWAY = "stripe"
    try:
        yield fake
    finally:
        fake.stop()
