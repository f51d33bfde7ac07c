"""Django's SQLite backend with a per-process pool of open connections.

Under ASGI every request runs its sync code in a thread context of its own, so Django opens
a database connection per request and closes it at the end (`CONN_MAX_AGE` cannot help:
connections are per thread). On SQLite that open is most of a small request's cost: Django
registers its ~30 SQL functions, runs its PRAGMAs and init commands, and the first statement
parses the whole schema. PostgreSQL has psycopg's pool (Django >= 5.1); this is the same idea
for SQLite: a closed connection goes back to a small pool and the next request takes it.

A connection is pooled only when it is clean: no transaction open (rolled back otherwise),
no error seen on it, foreign keys enforced again. In-memory databases are never pooled
(Django keeps those open anyway). `OPTIONS["pool"]` is the pool size per process (default 8,
0 turns pooling off)."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base as sqlite_base

DEFAULT_POOL_SIZE = 8


class _Pool:
    """Idle connections to one database file, shared by the threads of a process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def take(self) -> sqlite3.Connection | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def give(self, connection: sqlite3.Connection) -> bool:
        """Keep `connection` for the next taker; False when the pool is full."""
        with self._lock:
            if len(self._idle) >= self.size:
                return False
            self._idle.append(connection)
            return True

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()


def _pool_for(name: str, size: int) -> _Pool:
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = _Pool(size)
        return pool


def _forget_pools_in_child() -> None:
    """A forked child (a Celery prefork worker) must not use its parent's connections."""
    _pools.clear()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def close_pools() -> None:
    """Close every idle pooled connection of this process (tests, forks, shutdown)."""
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.clear()


class DatabaseWrapper(sqlite_base.DatabaseWrapper):
    def __init__(self, settings_dict: dict[str, Any], alias: str = "default") -> None:
        options = dict(settings_dict.get("OPTIONS") or {})
        self._pool_size = int(options.pop("pool", DEFAULT_POOL_SIZE))
        # Django's sqlite3 backend passes OPTIONS to sqlite3.connect(): "pool" is ours.
        settings_dict = {**settings_dict, "OPTIONS": options}
        super().__init__(settings_dict, alias)

    def _pool(self) -> _Pool | None:
        if self._pool_size <= 0 or self.is_in_memory_db():
            return None
        return _pool_for(str(self.settings_dict["NAME"]), self._pool_size)

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        self._opened_by = os.getpid()
        pool = self._pool()
        pooled = pool.take() if pool is not None else None
        if pooled is not None:
            return pooled
        connection: sqlite3.Connection = super().get_new_connection(conn_params)
        return connection

    def _close(self) -> None:
        connection: sqlite3.Connection | None = self.connection
        if connection is None:
            return
        pool = self._pool()
        if (
            pool is not None
            and getattr(self, "_opened_by", None) == os.getpid()  # not inherited through fork
            and not self.errors_occurred
            and _reset(connection)
            and pool.give(connection)
        ):
            return
        with self.wrap_database_errors:
            connection.close()


def _reset(connection: sqlite3.Connection) -> bool:
    """Put `connection` back in the state a new one starts in; False if it cannot be."""
    try:
        if connection.in_transaction:
            connection.rollback()
        connection.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error:
        return False
    return not connection.in_transaction
