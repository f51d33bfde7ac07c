"""The chat websocket (/ws/chat/): transport only. One socket per tab; each user's sockets
join the group `user.<id>`. Frames are capped in size and rate; everything else is
`protocol.handle_frame` in a worker thread."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from rest_framework.exceptions import ValidationError

from careconnect.accounts.models import User
from careconnect.errors import ApplicationError, error_frame
from chat.protocol import handle_frame
from chat.services import user_group

logger = logging.getLogger(__name__)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    user: User
    group: str
    allowance: float = 0.0
    checked_at: float = 0.0

    async def connect(self) -> None:
        # channels' AuthMiddleware resolved the lazy user before calling us: unwrap it.
        user: Any = getattr(self.scope.get("user"), "_wrapped", self.scope.get("user"))
        if not isinstance(user, User) or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.group = user_group(user.id)
        self.allowance = float(settings.CHAT_RATE_BURST)
        self.checked_at = time.monotonic()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def _within_rate(self) -> bool:
        """Token bucket per socket: CHAT_RATE_PER_SECOND sustained, CHAT_RATE_BURST burst."""
        now = time.monotonic()
        self.allowance = min(
            float(settings.CHAT_RATE_BURST),
            self.allowance + (now - self.checked_at) * settings.CHAT_RATE_PER_SECOND,
        )
        self.checked_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw.encode()) > settings.CHAT_MAX_FRAME_BYTES:
            await self.send_json(
                {"type": "error", "code": "too_large", "message": "Frames are at most 64 KiB."}
            )
            return
        if not self._within_rate():
            await self.send_json(
                {"type": "error", "code": "rate_limited", "message": "Too many frames; slow down."}
            )
            return
        try:
            content = json.loads(raw)
        except ValueError:
            await self.send_json(
                {"type": "error", "code": "malformed_json", "message": "Frames are JSON objects."}
            )
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        client_id = content.get("client_id") if isinstance(content, dict) else None
        try:
            replies = await database_sync_to_async(handle_frame)(user=self.user, frame=content)
        except (ApplicationError, ValidationError) as exc:
            replies = [error_frame(exc, client_id=client_id)]
        for reply in replies:
            if "fanout" in reply:
                for user_id in reply["fanout"]:
                    await self.channel_layer.group_send(
                        user_group(user_id), {"type": "chat.event", "frame": reply["frame"]}
                    )
            else:
                await self.send_json(reply)

    async def chat_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])
