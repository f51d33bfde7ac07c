"""Websocket routes of every app, gathered here so asgi.py stays one line per protocol.
Feature apps add their consumers' routes (chat: /ws/chat/, consult: /ws/consult/<id>/)."""

from typing import Any

websocket_urlpatterns: list[Any] = []
