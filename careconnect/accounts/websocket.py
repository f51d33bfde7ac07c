"""Who is on a websocket: the signed-in user of the Django session cookie, at the handshake.

Does what channels' AuthMiddlewareStack does for our sockets (cookie, session, user, with
Django's own session-hash check, so a changed password or a sign-out elsewhere ends the
session here too), in one thread hop, and leaves only `scope["user"]` behind. The stack
keeps a cookie jar, a lazy session store and a lazy user (and three middleware frames) alive
for as long as the socket is open; an idle chat socket is mostly that bookkeeping."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.cookie import parse_cookie

Scope = dict[str, Any]


def session_key_of(scope: Scope) -> str | None:
    """The session cookie of a websocket handshake, if it sent one."""
    for name, value in scope.get("headers") or ():
        if name == b"cookie":
            key = parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
            if key:
                return key
    return None


def user_for_session(session_key: str | None) -> Any:
    """The active user signed in to `session_key`, else AnonymousUser (sync: the database)."""
    if not session_key:
        return AnonymousUser()
    engine = import_module(settings.SESSION_ENGINE)
    request = HttpRequest()
    request.session = engine.SessionStore(session_key)
    return get_user(request)


class SessionUserMiddleware:
    """ASGI middleware for websockets: scope["user"] from the session cookie."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        user = await database_sync_to_async(user_for_session)(session_key_of(scope))
        return await self.app({**scope, "user": user}, receive, send)
