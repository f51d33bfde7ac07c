"""Per-request context (request id, client IP, acting-for) shared by services and logs."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str = "-"
    ip: str | None = None


_NO_REQUEST = RequestContext()  # frozen: safe to share
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "careconnect_request", default=None
)


def current_request() -> RequestContext:
    return _current.get() or _NO_REQUEST


def set_request(context: RequestContext) -> contextvars.Token[RequestContext | None]:
    return _current.set(context)


def reset_request(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)
