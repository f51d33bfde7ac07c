"""The per-user frame rate limit of /ws/chat/, shared by all of a user's sockets on every
process through Django's cache (LocMem embedded, Redis with REDIS_URL).

A fixed window of CHAT_RATE_BURST / CHAT_RATE_PER_SECOND seconds admits CHAT_RATE_BURST
frames: CHAT_RATE_PER_SECOND sustained, bursts up to CHAT_RATE_BURST (twice that across a
window edge at worst). One cache round trip per frame in the steady state."""

from __future__ import annotations

import math
import time
from uuid import UUID

from django.conf import settings
from django.core.cache import cache


def window_seconds() -> int:
    return max(1, math.ceil(settings.CHAT_RATE_BURST / max(settings.CHAT_RATE_PER_SECOND, 1)))


def allow_frame(user_id: UUID | str) -> bool:
    """Count one frame of the user; False when they are over the limit."""
    window = window_seconds()
    key = f"chat:rate:{user_id}:{int(time.time() // window)}"
    try:
        count = int(cache.incr(key))
    except ValueError:  # the window's first frame
        if cache.add(key, 1, timeout=window + 1):
            return True
        count = int(cache.incr(key))
    return count <= int(settings.CHAT_RATE_BURST)
