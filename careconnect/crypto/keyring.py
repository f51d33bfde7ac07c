"""The key ring: key-encryption keys (KEKs) from the environment, the first one active.

CRYPTO_KEYS="kid1:<base64url 32 bytes>,kid0:<...>" — to rotate, put a new key first, run
`manage.py rotate_keys`, then drop the old one. KEKs never touch the database.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class KeyRing:
    keys: dict[str, bytes]
    active_id: str

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active_id]


def parse_keyring(spec: str) -> KeyRing:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not kid or len(kid) > 32:
            raise ImproperlyConfigured("CRYPTO_KEYS entries are 'key_id:base64key'")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"CRYPTO_KEYS key {kid!r} is not base64") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured(f"CRYPTO_KEYS key {kid!r} must be 32 bytes (AES-256)")
        if kid in keys:
            raise ImproperlyConfigured(f"CRYPTO_KEYS names key {kid!r} twice")
        keys[kid] = raw
        order.append(kid)
    if not order:
        raise ImproperlyConfigured("CRYPTO_KEYS holds no key")
    return KeyRing(keys=keys, active_id=order[0])


@lru_cache(maxsize=4)
def _cached(spec: str) -> KeyRing:
    return parse_keyring(spec)


def get_keyring() -> KeyRing:
    return _cached(settings.CRYPTO_KEYS)
