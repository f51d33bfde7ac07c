"""One error hierarchy, rendered as API.md's error shape over REST and as error frames over
websockets. Services raise these; they never return errors. Messages never carry PHI."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "error"
    status = 400
    default_message = "The request could not be completed."
    # An audit record (careconnect.audit.services.record's keywords) written when the error is
    # answered, after the transaction it was raised in has rolled back: a refused attempt (a
    # wrong password) stays on record although nothing else of the request does.
    audit: dict[str, Any] | None = None

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        self.message = message or self.default_message
        self.fields: dict[str, Any] = fields
        super().__init__(self.message)


class InvalidInputError(ApplicationError):
    code = "invalid"
    status = 400
    default_message = "Some of the input is not valid."


class InvalidTokenError(ApplicationError):
    code = "invalid_token"
    status = 400
    default_message = "This link is invalid or has expired."


class NotAuthenticatedError(ApplicationError):
    code = "not_authenticated"
    status = 401
    default_message = "Please sign in."


class PermissionDeniedError(ApplicationError):
    code = "forbidden"
    status = 403
    default_message = "You are not allowed to do that."


class NotFoundError(ApplicationError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class ConflictError(ApplicationError):
    code = "conflict"
    status = 409
    default_message = "That conflicts with the current state."


class TooLargeError(ApplicationError):
    code = "too_large"
    status = 413
    default_message = "The request is too large."


class ThrottledError(ApplicationError):
    """Too many attempts; `retry_after` seconds go out as the Retry-After header."""

    code = "throttled"
    status = 429
    default_message = "Too many attempts. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int, **fields: Any) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, **fields)


class ConcurrentChangeError(ConflictError):
    code = "conflict"
    default_message = "Someone else changed this at the same moment. Try again."


# PostgreSQL's answers when two transactions collide: nothing was written, a retry can work.
CONCURRENCY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def concurrent_change(exc: BaseException) -> ConcurrentChangeError | None:
    """The 409 to answer when `exc` is the database aborting one of two colliding
    transactions (rolled back whole, so a retry is safe), else None."""
    from django.db import DatabaseError

    if isinstance(exc, DatabaseError) and (
        getattr(exc.__cause__, "sqlstate", None) in CONCURRENCY_SQLSTATES
    ):
        return ConcurrentChangeError()
    return None


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_frame(exc: Exception, *, client_id: str | None = None) -> dict[str, Any]:
    """The websocket rendering of an error (API.md: {"type": "error", code, message, client_id?})."""
    if isinstance(exc, ApplicationError):
        frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
    else:
        frame = {"type": "error", "code": "invalid", "message": "Some of the input is not valid."}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
