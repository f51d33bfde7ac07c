"""Envelope encryption (AES-256-GCM): the only module that uses `cryptography`.

Sealed value layout: version byte 0x01 | 12-byte nonce | ciphertext+tag. The associated
data binds a ciphertext to its row and field (e.g. "accounts.profile:<user id>"), so a value
copied into another row fails to open.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.utils import timezone

from careconnect.crypto.keyring import get_keyring
from careconnect.crypto.models import DataKey
from careconnect.errors import ApplicationError

VERSION = b"\x01"
NONCE_BYTES = 12


class DecryptionError(ApplicationError):
    code = "decryption_failed"
    status = 500
    default_message = "Stored data could not be decrypted."


class _KeyCache:
    """Unwrapped data keys by data key id, bounded and short-lived.

    Keyed by id alone: rotation re-wraps a data key but never changes it, so a cached key stays
    right across rotation. Entries expire after `ttl` seconds so that a key shredded by another
    process stops working here soon after, without any cross-process signal."""

    def __init__(self, size: int = 4096, ttl: float = 300.0) -> None:
        self._items: OrderedDict[UUID, tuple[float, bytes]] = OrderedDict()
        self._size = size
        self._ttl = ttl
        self._lock = threading.Lock()

    def get(self, key: UUID) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: UUID, value: bytes) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _KeyCache()


def _wrap_aad(data_key_id: UUID) -> bytes:
    return f"datakey:{data_key_id}".encode()


def encrypt_bytes(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt_bytes(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
        raise DecryptionError()
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise DecryptionError() from exc


def create_data_key(*, purpose: str) -> DataKey:
    ring = get_keyring()
    data_key = DataKey(id=UUID(bytes=os.urandom(16), version=4), purpose=purpose)
    raw = AESGCM.generate_key(bit_length=256)
    data_key.kek_id = ring.active_id
    data_key.wrapped_key = encrypt_bytes(ring.active_key, raw, _wrap_aad(data_key.id))
    data_key.save(force_insert=True)
    _cache.put(data_key.id, raw)
    return data_key


KeyRef = DataKey | UUID  # a data key row, or just its id (no query when the key is cached)


def unwrap(ref: KeyRef) -> bytes:
    cached = _cache.get(ref.id if isinstance(ref, DataKey) else ref)
    if cached is not None:
        return cached
    data_key = ref if isinstance(ref, DataKey) else DataKey.objects.filter(id=ref).first()
    if data_key is None:
        raise DecryptionError("The data key was shredded.")
    ring = get_keyring()
    kek = ring.keys.get(data_key.kek_id)
    if kek is None:
        raise DecryptionError(f"Key-encryption key {data_key.kek_id!r} is not in CRYPTO_KEYS.")
    raw = decrypt_bytes(kek, bytes(data_key.wrapped_key), _wrap_aad(data_key.id))
    _cache.put(data_key.id, raw)
    return raw


def seal(data_key: KeyRef, plaintext: bytes, *, aad: str) -> bytes:
    return encrypt_bytes(unwrap(data_key), plaintext, aad.encode())


def open_sealed(data_key: KeyRef, sealed: bytes, *, aad: str) -> bytes:
    return decrypt_bytes(unwrap(data_key), bytes(sealed), aad.encode())


def seal_json(data_key: KeyRef, value: Any, *, aad: str) -> bytes:
    return seal(data_key, json.dumps(value, separators=(",", ":")).encode(), aad=aad)


def open_json(data_key: KeyRef, sealed: bytes | memoryview | None, *, aad: str) -> Any:
    if not sealed:
        return None
    return json.loads(open_sealed(data_key, bytes(sealed), aad=aad))


def rotate_data_keys(*, batch_size: int = 500) -> int:
    """Re-wrap every data key not under the active KEK. Online: each batch is its own
    transaction and readers keep working throughout (a key is readable under old or new KEK
    as long as both are in the ring). Returns how many were re-wrapped."""
    ring = get_keyring()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                DataKey.objects.select_for_update()
                .exclude(kek_id=ring.active_id)
                .order_by("id")[:batch_size]
            )
            if not batch:
                return total
            now = timezone.now()
            for data_key in batch:
                raw = unwrap(data_key)
                data_key.wrapped_key = encrypt_bytes(ring.active_key, raw, _wrap_aad(data_key.id))
                data_key.kek_id = ring.active_id
                data_key.rewrapped_at = now
                data_key.save(update_fields=["wrapped_key", "kek_id", "rewrapped_at"])
                _cache.put(data_key.id, raw)
            total += len(batch)


def shred_data_key(*, data_key_id: UUID) -> None:
    """Delete a data key: everything sealed with it becomes unreadable for good."""
    DataKey.objects.filter(id=data_key_id).delete()
    _cache.clear()


def clear_key_cache() -> None:
    _cache.clear()
