"""Per-request context (request id, client IP, acting-for) shared by services and logs."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str = "-"
    ip: str | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "careconnect_request", default=RequestContext()
)


def current_request() -> RequestContext:
    return _current.get()


def set_request(context: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(context)


def reset_request(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
