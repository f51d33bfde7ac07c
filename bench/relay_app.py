"""The chat benchmark's baseline: a bare channels relay. Same daphne, same channels, same
channel layer (careconnect.settings' CHANNEL_LAYERS, so channels-redis with the same
capacity and layer encryption), same frames and the same fan-out as /ws/chat/ (the
message goes to each participant's `user.<id>` group, then the sender gets its `ack`) -
but no database, no session lookup, no rate limit and no message encryption.

    python -m daphne --fd N bench.relay_app:application     (bench/chat_bench.py starts it)

The user is named by the query string (`/ws/chat/?user=<id>`); who is in which
conversation comes from a JSON file `{conversation: [user id, ...]}` named by
RELAY_MEMBERS. HTTP answers 204 to anything (the readiness probe)."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careconnect.settings")
django.setup()  # channels reads CHANNEL_LAYERS from the settings; nothing touches the DB

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


def _members() -> dict[str, list[str]]:
    source = os.environ.get("RELAY_MEMBERS", "")
    if not source:
        return {}
    members: dict[str, list[str]] = json.loads(Path(source).read_text(encoding="utf-8"))
    return members


MEMBERS = _members()
# A per-process counter: enough for a baseline (the real server's seq is per conversation
# and gap-free across processes because the database hands it out).
_SEQ: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))


class RelayConsumer(AsyncJsonWebsocketConsumer):
    user_id: str = ""

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.user_id = (query.get("user") or [""])[0]
        if not self.user_id:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(f"user.{self.user_id}", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.user_id:
            await self.channel_layer.group_discard(f"user.{self.user_id}", self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        if not isinstance(content, dict) or content.get("type") != "message.send":
            await self.send_json({"type": "error", "code": "unknown_type", "message": "-"})
            return
        conversation = str(content.get("conversation", ""))
        members = MEMBERS.get(conversation, [])
        if self.user_id not in members:
            await self.send_json({"type": "error", "code": "not_found", "message": "-"})
            return
        message = {
            "id": str(uuid.uuid4()),
            "conversation": conversation,
            "seq": next(_SEQ[conversation]),
            "sender": self.user_id,
            "kind": "text",
            "body": content.get("body", ""),
            "created_at": datetime.now(UTC).isoformat(),
            "client_id": content.get("client_id"),
        }
        frame = {"type": "message.new", "message": message}
        for user_id in members:
            await self.channel_layer.group_send(
                f"user.{user_id}", {"type": "chat.event", "frame": frame}
            )
        await self.send_json(
            {"type": "ack", "client_id": content.get("client_id"), "message": message}
        )

    async def chat_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])


async def _http(scope: Any, receive: Any, send: Any) -> None:
    """204 to any request (the benchmark's readiness probe)."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


application = ProtocolTypeRouter(
    {
        "http": _http,
        "websocket": URLRouter([path("ws/chat/", RelayConsumer.as_asgi())]),  # type: ignore[arg-type,list-item]
    }
)
