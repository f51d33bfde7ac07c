"""The chat websocket (/ws/chat/): transport only. One socket per tab; each user's sockets
join the group `user.<id>`. Frames are capped in size here; the rate limit, parsing and
everything else is `protocol.handle_text` in a worker thread. Presence is counted per user
in the cache (chat.presence), kept alive by one timer per process."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from careconnect.accounts.models import User
from careconnect.notifications.services import push_group
from chat import presence, services
from chat.protocol import FrameTooLargeError, handle_text
from chat.services import Fanout, user_group

logger = logging.getLogger(__name__)

# Sockets per user in this process, for the presence heartbeat.
_local_sockets: Counter[str] = Counter()
_heartbeat_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
_refreshing: set[asyncio.Task[None]] = set()


def _heartbeat_interval() -> float:
    return max(1.0, settings.CHAT_PRESENCE_TTL_SECONDS / 3)


async def _refresh_presence(counts: dict[str, int]) -> None:
    try:
        await sync_to_async(presence.refresh, thread_sensitive=False)(counts)
    except Exception:  # the cache being away must not take the server down
        logger.warning("chat presence refresh failed", exc_info=True)


def _beat(loop: asyncio.AbstractEventLoop) -> None:
    if loop.is_closed():
        return
    counts = {user_id: n for user_id, n in _local_sockets.items() if n > 0}
    if counts:
        task = loop.create_task(_refresh_presence(counts))
        _refreshing.add(task)
        task.add_done_callback(_refreshing.discard)
    loop.call_later(_heartbeat_interval(), _beat, loop)


def _ensure_heartbeat() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _heartbeat_loops:
        _heartbeat_loops.add(loop)
        loop.call_later(_heartbeat_interval(), _beat, loop)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    user: User
    group: str
    notify_group: str

    async def connect(self) -> None:
        # channels' AuthMiddleware resolved the lazy user before calling us: unwrap it.
        user: Any = getattr(self.scope.get("user"), "_wrapped", self.scope.get("user"))
        if not isinstance(user, User) or not user.is_active:
            # Accept first: a close during the handshake reaches a browser as a bare failure
            # (1006); after accepting, the client sees 4401 and knows to sign in.
            await self.accept()
            await self.close(code=4401)
            return
        self.user = user
        self.group = user_group(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # In-app notifications ride the chat socket (one socket per tab).
        self.notify_group = push_group(user.id)
        await self.channel_layer.group_add(self.notify_group, self.channel_name)
        await self.accept()
        _local_sockets[str(user.id)] += 1
        _ensure_heartbeat()
        await self._fan_out(await database_sync_to_async(services.socket_connected)(user=user))

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "group"):
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.channel_layer.group_discard(self.notify_group, self.channel_name)
        key = str(self.user.id)
        _local_sockets[key] -= 1
        if _local_sockets[key] <= 0:
            del _local_sockets[key]
        events = await database_sync_to_async(services.socket_disconnected)(user=self.user)
        await self._fan_out(events)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw.encode()) > settings.CHAT_MAX_FRAME_BYTES:
            error = FrameTooLargeError()
            await self.send_json({"type": "error", "code": error.code, "message": error.message})
            return
        outcome = await database_sync_to_async(handle_text)(user=self.user, raw=raw)
        for reply in outcome.replies:
            await self.send_json(reply)
        await self._fan_out(outcome.events)

    async def _fan_out(self, events: list[Fanout]) -> None:
        """Ephemeral events (typing, read marks, presence) to other users' groups: best effort,
        like every push (the layer is a doorbell)."""
        for user_ids, frame in events:
            for user_id in user_ids:
                try:
                    await self.channel_layer.group_send(
                        user_group(user_id), {"type": "chat.event", "frame": frame}
                    )
                except Exception:
                    logger.warning("chat fan-out failed", exc_info=True)

    async def chat_event(self, event: dict[str, Any]) -> None:
        """A frame pushed to this user's group (group_send type "chat.event")."""
        await self.send_json(event["frame"])

    async def notification_new(self, event: dict[str, Any]) -> None:
        """An in-app notification for this user (group_send type "notification.new")."""
        await self.send_json({"type": "notification.new", "notification": event["notification"]})
