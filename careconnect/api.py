"""DRF plumbing shared by every app: the exception handler (API.md's error shape), a strict
serializer base (unknown fields are refused) and small field helpers."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from careconnect.accounts.models import User
from careconnect.audit.services import record
from careconnect.errors import (
    ApplicationError,
    NotAuthenticatedError,
    ThrottledError,
    concurrent_change,
    error_body,
)

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        if exc.audit is not None:
            record(**exc.audit)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ThrottledError) else None
        return Response(
            error_body(exc.code, exc.message, exc.fields), status=exc.status, headers=headers
        )
    if (collided := concurrent_change(exc)) is not None:
        logger.warning("concurrent change answered with 409: %s", type(exc.__cause__).__name__)
        return Response(
            error_body(collided.code, collided.message), status=409, headers={"Retry-After": "1"}
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", "The request body is too large."), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    status = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        message = "Some of the input is not valid."
        if list(fields) == ["non_field_errors"] and fields["non_field_errors"]:
            message = str(fields["non_field_errors"][0])
        body = error_body("invalid", message, fields)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body("malformed_json", "The request body is not valid JSON.")
    elif isinstance(exc, exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        body = error_body("throttled", f"Too many attempts. Try again in {wait} seconds.")
    elif isinstance(exc, exceptions.APIException):
        code = _STATUS_CODES.get(status, "error")
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
        if isinstance(exc, exceptions.PermissionDenied) and "CSRF" in message:
            code, message = "csrf_failed", "The CSRF token is missing or wrong; reload and retry."
        body = error_body(code, message)
    else:  # pragma: no cover - DRF only returns responses for APIException
        body = error_body("error", "Request failed.")
    response.data = body
    return response


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know, so typos and smuggled fields are never ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not allowed."] for name in unknown}
                )
        return super().to_internal_value(data)


_NAME_FORBIDDEN = re.compile(r"[<>{}\x00-\x1f\x7f]")


def validate_person_name(value: str) -> str:
    """Names are shown everywhere: refuse markup and control characters outright."""
    cleaned = " ".join(value.split())
    if _NAME_FORBIDDEN.search(value):
        raise serializers.ValidationError(
            "Names may not contain <, >, braces or control characters."
        )
    if not any(ch.isalpha() for ch in cleaned):
        raise serializers.ValidationError("Enter a name with at least one letter.")
    return cleaned


def validate_plain_text(value: str) -> str:
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value):
        raise serializers.ValidationError("Control characters are not allowed.")
    if re.search(r"<\s*/?\s*[a-zA-Z!]", value):
        raise serializers.ValidationError("HTML is not allowed here.")
    return value.strip()


class NameField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return validate_person_name(super().to_internal_value(data))


class PlainTextField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return validate_plain_text(super().to_internal_value(data))


class MoneySerializer(StrictSerializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3)


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, reading `settings.THROTTLE_RATES` on each request (settable by env,
    and by tests) instead of a copy taken at import."""

    def get_rate(self) -> str | None:
        return str(settings.THROTTLE_RATES[str(self.scope)])


class EmailScopedThrottle(ScopedThrottle):
    """Counts attempts per target email (hashed), whatever IP they come from: slows credential
    stuffing and reset-mail floods aimed at one account. Scope rates: `<scope>_email`."""

    def get_rate(self) -> str | None:
        return str(settings.THROTTLE_RATES[f"{self.scope}_email"])

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email:
            return None
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return self.cache_format % {"scope": f"{self.scope}_email", "ident": digest}


_OUTPUT_SERIALIZERS: dict[type[Any], Any] = {}
_OUTPUT_SERIALIZERS_LOCK = threading.Lock()


def rendered(serializer_class: type[serializers.BaseSerializer[Any]], instance: Any) -> Any:
    """`serializer_class(instance).data`, without building the serializer again on every call.

    DRF deep-copies every declared field (nested serializers included) each time a serializer
    is instantiated; for an output-only serializer that work is the same on every request. One
    unbound instance per class is kept for the process and only its `to_representation` is
    called: that reads the field tree and never writes to it, so the instance is safe to share
    between threads, and the result is exactly what `.data` renders (a dict, not a ReturnDict).
    Only for plain output serializers: no context, no `many`, no `SerializerMethodField` that
    reads `self.context`."""
    serializer = _OUTPUT_SERIALIZERS.get(serializer_class)
    if serializer is None:
        with _OUTPUT_SERIALIZERS_LOCK:
            serializer = _OUTPUT_SERIALIZERS.get(serializer_class)
            if serializer is None:
                serializer = serializer_class()
                _build_fields(serializer)
                _OUTPUT_SERIALIZERS[serializer_class] = serializer
    return serializer.to_representation(instance)


def _build_fields(serializer: Any) -> None:
    """Build the whole (lazily built) field tree once, under the lock, before it is shared."""
    if isinstance(serializer, serializers.ListSerializer):
        _build_fields(serializer.child)
    elif isinstance(serializer, serializers.Serializer):
        for field in serializer.fields.values():
            _build_fields(field)
    elif isinstance(serializer, serializers.ListField):
        _build_fields(serializer.child)


def request_user(request: Request) -> User:
    """The signed-in user of an API request (401 when there is none)."""
    if not isinstance(request.user, User):
        raise NotAuthenticatedError()
    return request.user


def validated(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    """Validate `data` with `serializer_class` (400 in API.md's shape) and return the result."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
