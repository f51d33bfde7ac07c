"""The consult signaling websocket (/ws/consult/<consult_id>/): transport only.

The handshake checks who may be in the consult (`services.consult_access`); frames are
capped in size and rate here; `join`/`admit`/`leave`/`end` are one service call each, and
`offer`/`ice` go to the socket's media session (consult/media_backend.py): the consult's
`Room` in this process on the embedded default, or a media worker process reached through
the channel layer (`CONSULT_MEDIA=worker`, DESIGN §6), whose events come back to this
socket's channel (`consult.media.event`). Sockets that joined are in the channel-layer group
`consult.<id>` and in `consult.<id>.user.<user id>`. docs/consult-protocol.md has every
frame.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from careconnect.accounts.models import User
from careconnect.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TooLargeError,
    error_frame,
)
from chat.protocol import BadFrameError, MalformedJsonError, RateLimitedError, UnknownTypeError
from chat.services import display_name
from consult import services
from consult.media_backend import LinkQuality, MediaEvents, MediaFailedError, get_backend

logger = logging.getLogger(__name__)

MAX_SDP_BYTES = 24_576  # browsers' offers with every candidate fit well inside
MAX_CANDIDATE_BYTES = 1_024
MAX_STRIKES = 10  # refused frames (too large, too fast) before the socket is closed
CLOSE_ANONYMOUS, CLOSE_REFUSED, CLOSE_NOT_FOUND, CLOSE_ABUSE = 4401, 4403, 4404, 4429

# This process's joined sockets per (consult, user): a user is "left" when the last goes.
_local_sockets: Counter[tuple[str, str]] = Counter()


class NotAdmittedError(ConflictError):
    code = "not_admitted"
    default_message = "Wait until the doctor admits you."


class NotJoinedError(ConflictError):
    code = "not_joined"
    default_message = "Send a join frame first."


class UnexpectedAnswerError(BadFrameError):
    default_message = "The server never sends offers: there is nothing to answer."


def consult_group(consult_id: object) -> str:
    """All joined sockets of one consult (letters, digits, hyphens, periods only)."""
    return f"consult.{consult_id}"


def participant_group(consult_id: object, user_id: object) -> str:
    """One user's joined sockets in one consult (every tab)."""
    return f"consult.{consult_id}.user.{user_id}"


@dataclass
class TokenBucket:
    """CONSULT_RATE_PER_SECOND sustained, CONSULT_RATE_BURST at once, per socket (the media
    room is per process, so a process-local limit is the right scope)."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _handshake(*, user: User, consult_id: str) -> tuple[services.ConsultAccess, str]:
    access = services.consult_access(actor=user, consult_id=consult_id)
    return access, display_name(user)


def _admit(*, actor: User, consult_id: str, user_id: str) -> dict[str, Any]:
    participant = services.admit(actor=actor, consult_id=consult_id, user_id=user_id)
    return {"user": str(participant.user_id), "name": display_name(participant.user)}


def _quality(quality: LinkQuality) -> services.Quality:
    return services.Quality(
        bitrate_kbps=quality.bitrate_kbps,
        packet_loss=quality.packet_loss,
        rtt_ms=quality.rtt_ms,
        fps=quality.fps,
    )


class ConsultConsumer(AsyncJsonWebsocketConsumer):
    user: User
    consult_id: str
    name: str
    role: str
    joined = False  # in the consult's groups (sent `join`)
    admitted = False  # may send `offer` / `ice`
    ended = False
    poor = False  # the last quality frame said "poor"

    # ------------------------------------------------------------------ the handshake

    async def connect(self) -> None:
        # channels' AuthMiddleware resolved the lazy user before calling us: unwrap it.
        user: Any = getattr(self.scope.get("user"), "_wrapped", self.scope.get("user"))
        consult_id = str(self.scope["url_route"]["kwargs"]["consult_id"])
        # Accept first: a close during the handshake reaches a browser as a bare 1006.
        await self.accept()
        if not isinstance(user, User) or not user.is_active:
            logger.warning("consult %s socket refused: not signed in", consult_id)
            await self.close(code=CLOSE_ANONYMOUS)
            return
        try:
            access, name = await database_sync_to_async(_handshake)(
                user=user, consult_id=consult_id
            )
        except ApplicationError as exc:
            code = CLOSE_NOT_FOUND if isinstance(exc, NotFoundError) else CLOSE_REFUSED
            logger.warning(
                "consult %s socket refused to user %s: %s", consult_id, user.id, exc.code
            )
            await self.send_json(error_frame(exc))  # says when it opens, for the page
            await self.close(code=code)
            return
        self.user, self.consult_id, self.name, self.role = user, consult_id, name, access.role
        self.media = get_backend().session(
            consult_id=consult_id,
            user_id=str(user.id),
            owner=self.channel_name,  # media events come back here; guards `leave`
            featured=self.is_doctor,  # others receive the doctor first (DESIGN §6)
            events=MediaEvents(
                answer=self._on_media_answer,
                quality=self._on_quality,
                failed=self._on_media_failed,
                error=self._on_media_error,
            ),
        )
        self.bucket = TokenBucket(
            float(settings.CONSULT_RATE_PER_SECOND), float(settings.CONSULT_RATE_BURST)
        )
        self.strikes = 0

    @property
    def is_doctor(self) -> bool:
        return self.role == "doctor"

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "user"):
            await self._leave()
            await self.media.leave()  # an offer still on its way, after `ended`

    # ------------------------------------------------------------------ frames in

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if not hasattr(self, "user"):
            return  # a refused socket, closing
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if not self.bucket.take():
            await self._strike(RateLimitedError())
            return
        if len(raw.encode()) > settings.CONSULT_MAX_FRAME_BYTES:
            limit = settings.CONSULT_MAX_FRAME_BYTES
            await self._strike(TooLargeError(f"Frames are at most {limit} bytes."))
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            await self.send_json(error_frame(MalformedJsonError()))
            return
        try:
            await self._dispatch(frame)
        except ApplicationError as exc:
            await self.send_json(error_frame(exc))
        except Exception:
            logger.exception(
                "consult frame failed", extra={"consult": self.consult_id, "user": self.user.id}
            )
            await self.send_json(
                {"type": "error", "code": "server_error", "message": "Something went wrong."}
            )

    async def _strike(self, exc: ApplicationError) -> None:
        self.strikes += 1
        if self.strikes > MAX_STRIKES:
            logger.warning(
                "consult %s socket of %s closed: %s", self.consult_id, self.user.id, exc.code
            )
            await self.close(code=CLOSE_ABUSE)
            return
        await self.send_json(error_frame(exc))

    async def _dispatch(self, frame: Any) -> None:
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise BadFrameError("A frame is a JSON object with a `type`.")
        handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "join": self._on_join,
            "admit": self._on_admit,
            "offer": self._on_offer,
            "answer": self._on_answer,
            "ice": self._on_ice,
            "leave": self._on_leave,
            "end": self._on_end,
        }
        handler = handlers.get(frame["type"])
        if handler is None:
            raise UnknownTypeError(type=[frame["type"][:40]])
        await handler(frame)

    async def _on_join(self, frame: dict[str, Any]) -> None:
        result = await database_sync_to_async(services.join)(
            actor=self.user, consult_id=self.consult_id
        )
        if not self.joined:
            self.joined, self.ended = True, False
            await self.channel_layer.group_add(consult_group(self.consult_id), self.channel_name)
            await self.channel_layer.group_add(self._own_group, self.channel_name)
            _local_sockets[self._key] += 1
        if result.admitted:
            await self._become_admitted()
        else:
            await self.send_json({"type": "waiting"})
            await self._to_consult(
                {"type": "participant.waiting", "user": str(self.user.id), "name": self.name},
                doctor_only=True,
            )
        for person in result.waiting:  # the doctor: everyone already in the waiting room
            await self.send_json(
                {"type": "participant.waiting", "user": person["user"], "name": person["name"]}
            )

    async def _on_admit(self, frame: dict[str, Any]) -> None:
        self._require_joined()
        user_id = _uuid(frame.get("user"), "user")
        person = await database_sync_to_async(_admit)(
            actor=self.user, consult_id=self.consult_id, user_id=user_id
        )
        # The admitted person's sockets say `participant.joined` themselves (see below).
        await self.channel_layer.group_send(
            participant_group(self.consult_id, person["user"]), {"type": "consult.admitted"}
        )

    async def _on_offer(self, frame: dict[str, Any]) -> None:
        self._require_admitted()
        sdp = frame.get("sdp")
        if not isinstance(sdp, str) or not sdp:
            raise InvalidInputError("An offer carries its SDP as a string.", sdp=["required"])
        if len(sdp.encode()) > MAX_SDP_BYTES:
            raise TooLargeError(f"An SDP is at most {MAX_SDP_BYTES} bytes.")
        await self.media.offer(sdp)  # `answer` now or later; no_capacity, bad_sdp, ...

    async def _on_answer(self, frame: dict[str, Any]) -> None:
        raise UnexpectedAnswerError()

    async def _on_ice(self, frame: dict[str, Any]) -> None:
        self._require_admitted()
        candidate = frame.get("candidate")
        if isinstance(candidate, str):
            candidate = {"candidate": candidate}
        if candidate is not None and not isinstance(candidate, dict):
            raise InvalidInputError("A candidate is an object.", candidate=["invalid"])
        if len(json.dumps(candidate).encode()) > MAX_CANDIDATE_BYTES:
            raise TooLargeError(f"A candidate is at most {MAX_CANDIDATE_BYTES} bytes.")
        await self.media.add_ice(candidate)

    async def _on_leave(self, frame: dict[str, Any]) -> None:
        await self._leave()

    async def _on_end(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.end_consult)(
            actor=self.user, consult_id=self.consult_id
        )
        await get_backend().close_room(self.consult_id)
        await self.channel_layer.group_send(
            consult_group(self.consult_id), {"type": "consult.ended"}
        )
        if not self.joined:  # the doctor ended it without being in it: tell them too
            await self.send_json({"type": "ended"})

    # ------------------------------------------------------------------ state

    @property
    def _key(self) -> tuple[str, str]:
        return (self.consult_id, str(self.user.id))

    @property
    def _own_group(self) -> str:
        return participant_group(self.consult_id, self.user.id)

    def _require_joined(self) -> None:
        if self.ended:
            raise services.ConsultEndedError()
        if not self.joined:
            raise NotJoinedError()

    def _require_admitted(self) -> None:
        self._require_joined()
        if not self.admitted:
            raise NotAdmittedError()

    async def _become_admitted(self) -> None:
        self.admitted = True
        await self.send_json({"type": "admitted", "role": self.role})
        await self._to_consult(
            {"type": "participant.joined", "user": str(self.user.id), "name": self.name},
            announce=True,
        )

    async def _leave(self) -> None:
        """Leave the consult (a `leave` frame or the socket closing). The user has left
        when their last socket in this process goes; their media only with its owner."""
        if not self.joined:
            return
        self.joined = self.admitted = False
        await self.channel_layer.group_discard(consult_group(self.consult_id), self.channel_name)
        await self.channel_layer.group_discard(self._own_group, self.channel_name)
        _local_sockets[self._key] -= 1
        last = _local_sockets[self._key] <= 0
        if last:
            del _local_sockets[self._key]
        await self.media.leave()
        if last:
            await database_sync_to_async(services.leave)(
                actor=self.user, consult_id=self.consult_id
            )
            await self._to_consult(
                {"type": "participant.left", "user": str(self.user.id), "name": self.name}
            )

    async def _to_consult(
        self, frame: dict[str, Any], *, doctor_only: bool = False, announce: bool = False
    ) -> None:
        """A frame to the consult's other sockets. `announce`: the admitted ones answer
        with their own `participant.joined`, so a newcomer learns who is already in."""
        await self.channel_layer.group_send(
            consult_group(self.consult_id),
            {
                "type": "consult.frame",
                "frame": frame,
                "sender": str(self.user.id),
                "doctor_only": doctor_only,
                "announce": announce,
            },
        )

    # ------------------------------------------------------------------ frames out

    async def consult_frame(self, event: dict[str, Any]) -> None:
        """group_send type "consult.frame"."""
        if event.get("sender") == str(self.user.id) or not self.joined:
            return
        if event.get("doctor_only") and not self.is_doctor:
            return
        await self.send_json(event["frame"])
        if event.get("announce") and self.admitted:
            await self.channel_layer.group_send(
                participant_group(self.consult_id, event["sender"]),
                {
                    "type": "consult.frame",
                    "frame": {
                        "type": "participant.joined",
                        "user": str(self.user.id),
                        "name": self.name,
                    },
                    "sender": str(self.user.id),
                },
            )

    async def consult_admitted(self, event: dict[str, Any]) -> None:
        """group_send type "consult.admitted": the doctor let this user in."""
        if self.joined and not self.admitted and not self.ended:
            await self._become_admitted()

    async def consult_ended(self, event: dict[str, Any]) -> None:
        """group_send type "consult.ended": the doctor ended the call for everyone."""
        if not self.joined:
            return
        self.ended = True
        await get_backend().close_room(self.consult_id)  # ended over REST: the room goes too
        await self.media.leave()
        await self.send_json({"type": "ended"})
        self.joined = self.admitted = False  # the service already marked everyone as left
        await self.channel_layer.group_discard(consult_group(self.consult_id), self.channel_name)
        await self.channel_layer.group_discard(self._own_group, self.channel_name)
        _local_sockets[self._key] -= 1
        if _local_sockets[self._key] <= 0:
            del _local_sockets[self._key]

    async def consult_media_event(self, event: dict[str, Any]) -> None:
        """channel-layer type "consult.media.event": from the media worker holding our
        peer (CONSULT_MEDIA=worker): accepted, answer, error, quality, failed."""
        if hasattr(self, "media"):
            await self.media.deliver(event)

    async def _on_media_answer(self, sdp: str) -> None:
        if self.joined and not self.ended:
            await self.send_json({"type": "answer", "sdp": sdp})

    async def _on_media_error(self, exc: ApplicationError) -> None:
        """An offer's error that came after its frame (worker mode: no_capacity, bad_sdp,
        media_failed when the worker did not answer in time)."""
        if self.joined:
            await self.send_json(error_frame(exc))

    async def _on_quality(self, quality: LinkQuality) -> None:
        """A sample of this participant's link from the room: stored; a poor link is
        offered audio only, and told once when it recovers."""
        if not self.joined:
            return
        poor = await database_sync_to_async(services.record_quality)(
            consult_id=self.consult_id, user_id=self.user.id, quality=_quality(quality)
        )
        if poor or self.poor:
            self.poor = poor
            await self.send_json(
                {
                    "type": "quality",
                    "level": "poor" if poor else "ok",
                    "audio_only": poor,
                    "bitrate_kbps": quality.bitrate_kbps,
                    "packet_loss": quality.packet_loss,
                    "rtt_ms": quality.rtt_ms,
                    "fps": quality.fps,
                }
            )

    async def _on_media_failed(self) -> None:
        if self.joined:
            await self.send_json(error_frame(MediaFailedError()))


def _uuid(value: Any, name: str) -> str:
    try:
        return str(UUID(str(value)))
    except ValueError as exc:
        raise InvalidInputError(f"`{name}` is a user id.", **{name: ["invalid"]}) from exc
