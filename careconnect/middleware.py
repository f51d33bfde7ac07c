"""HTTP middleware: request ids and client IPs for audit and logs, and the body-size cap."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from careconnect.context import RequestContext, reset_request, set_request
from careconnect.errors import error_body

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    # Behind the compose reverse proxy the peer is the proxy; it sets X-Real-IP.
    if settings.PRODUCTION and (real := request.META.get("HTTP_X_REAL_IP")):
        return str(real)
    remote = request.META.get("REMOTE_ADDR")
    return str(remote) if remote else None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = set_request(RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            reset_request(token)
        response["X-Request-ID"] = request_id
        return response


class BodySizeLimitMiddleware:
    """413 in API.md's shape before a too-large body is read (JSON 1 MB; uploads more)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_upload = request.content_type == "multipart/form-data"
        limit = settings.MAX_UPLOAD_BYTES if is_upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return JsonResponse(
                error_body("too_large", f"The request body is larger than {limit} bytes."),
                status=413,
            )
        return self.get_response(request)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from careconnect.context import current_request

        record.request_id = current_request().request_id
        return True
