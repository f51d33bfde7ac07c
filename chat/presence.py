"""Who is online, and when they were last seen: ephemeral state in Django's cache (LocMem on
the embedded default, Redis with REDIS_URL, so every daphne process shares it).

A user is online while they have at least one chat socket open anywhere: `chat:online:<id>`
counts their sockets. The counter expires CHAT_PRESENCE_TTL_SECONDS after its last refresh;
each process refreshes the counters of the users it holds sockets for (`refresh`), so a
process killed without running its disconnect handlers stops counting within that time.
`chat:seen:<id>` holds when the user's last socket closed. Nothing here is ever the record
of anything: losing the cache loses presence, not messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

SEEN_TTL_SECONDS = 90 * 24 * 3600


def _online_key(user_id: UUID | str) -> str:
    return f"chat:online:{user_id}"


def _seen_key(user_id: UUID | str) -> str:
    return f"chat:seen:{user_id}"


def _ttl() -> int:
    return int(settings.CHAT_PRESENCE_TTL_SECONDS)


def socket_opened(user_id: UUID | str) -> bool:
    """Count one more socket of the user; True when this made them online."""
    key = _online_key(user_id)
    try:
        count = cache.incr(key)
    except ValueError:  # no counter yet (or it expired): this is the first socket
        if cache.add(key, 1, timeout=_ttl()):
            return True
        count = cache.incr(key)  # another socket of theirs won the race
    return int(count) == 1


def socket_closed(user_id: UUID | str) -> bool:
    """Count one socket fewer; True when that was the user's last one (now offline)."""
    key = _online_key(user_id)
    try:
        count = int(cache.decr(key))
    except ValueError:  # expired meanwhile: treat as the last socket
        count = 0
    if count > 0:
        return False
    cache.delete(key)
    cache.set(_seen_key(user_id), timezone.now().isoformat(), timeout=SEEN_TTL_SECONDS)
    return True


def refresh(local_counts: Mapping[str, int]) -> None:
    """Keep alive the counters of users with sockets in this process (called periodically).
    A counter that expired while its sockets stayed open is put back with this process's count."""
    for user_id, count in local_counts.items():
        if count > 0 and not cache.touch(_online_key(user_id), timeout=_ttl()):
            cache.add(_online_key(user_id), count, timeout=_ttl())


def is_online(user_id: UUID | str) -> bool:
    return int(cache.get(_online_key(user_id)) or 0) > 0


@dataclass(frozen=True, slots=True)
class Presence:
    online: bool
    last_seen: datetime | None


def snapshot(user_ids: Iterable[UUID | str]) -> dict[str, Presence]:
    """Presence of many users in one cache round trip (hidden users are the caller's concern)."""
    ids = [str(user_id) for user_id in user_ids]
    if not ids:
        return {}
    values = cache.get_many([_online_key(i) for i in ids] + [_seen_key(i) for i in ids])
    result: dict[str, Presence] = {}
    for user_id in ids:
        seen = values.get(_seen_key(user_id))
        result[user_id] = Presence(
            online=int(values.get(_online_key(user_id)) or 0) > 0,
            last_seen=datetime.fromisoformat(seen) if isinstance(seen, str) else None,
        )
    return result
