"""careconnect.sqlite: Django's SQLite backend with a per-process connection pool. Each test
opens its own database file through its own ConnectionHandler, as a server process would."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError
from django.db.utils import ConnectionHandler

from careconnect.env import SQLITE_ENGINE, database_from_url, sqlite_wal
from careconnect.sqlite.base import close_pools


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker: Any) -> Iterator[None]:
    # These tests open their own database files, not the test database pytest-django guards.
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[ConnectionHandler]:
    settings = sqlite_wal(tmp_path)
    connections = ConnectionHandler({"default": settings})
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        cursor.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, "
            "parent_id INTEGER NOT NULL REFERENCES parent (id))"
        )
        cursor.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    connection.close()
    yield connections
    connections.close_all()
    close_pools()


def _raw(connections: ConnectionHandler) -> Any:
    connection = connections["default"]
    connection.ensure_connection()
    return connection.connection


def _count(connections: ConnectionHandler, table: str) -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


def test_the_embedded_default_and_sqlite_urls_use_the_pooled_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sqlite_wal(tmp_path)["ENGINE"] == SQLITE_ENGINE
    assert database_from_url(f"sqlite:///{tmp_path}/x.db")["ENGINE"] == SQLITE_ENGINE
    monkeypatch.setenv("DATABASE_POOL_MAX", "3")
    assert sqlite_wal(tmp_path)["OPTIONS"]["pool"] == 3
    assert database_from_url(f"sqlite:///{tmp_path}/x.db")["OPTIONS"]["pool"] == 3


def test_a_closed_connection_is_reused_by_the_next_open(handler: ConnectionHandler) -> None:
    first = _raw(handler)
    handler["default"].close()
    assert handler["default"].connection is None
    second = _raw(handler)
    assert second is first
    # It works like a new one: WAL mode from the init command, foreign keys enforced.
    with handler["default"].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


def test_an_open_transaction_is_rolled_back_not_carried_to_the_next_user(
    handler: ConnectionHandler,
) -> None:
    connection = handler["default"]
    connection.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO note (body) VALUES ('never committed')")
    raw = connection.connection
    assert raw.in_transaction
    connection.close()
    assert not raw.in_transaction
    reused = _raw(handler)
    assert reused is raw
    assert handler["default"].get_autocommit()
    assert _count(handler, "note") == 0


def test_foreign_keys_are_enforced_again_after_constraint_checking_was_disabled(
    handler: ConnectionHandler,
) -> None:
    connection = handler["default"]
    assert connection.disable_constraint_checking()
    connection.close()
    with pytest.raises(IntegrityError), handler["default"].cursor() as cursor:
        cursor.execute("INSERT INTO child (parent_id) VALUES (42)")


def test_a_connection_that_saw_an_error_is_closed_not_pooled(handler: ConnectionHandler) -> None:
    first = _raw(handler)
    handler["default"].errors_occurred = True
    handler["default"].close()
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")
    assert _raw(handler) is not first


def test_the_pool_keeps_at_most_its_size_and_closes_the_rest(tmp_path: Path) -> None:
    settings = sqlite_wal(tmp_path)
    settings["OPTIONS"]["pool"] = 1
    a, b = ConnectionHandler({"default": settings}), ConnectionHandler({"default": settings})
    try:
        raw_a, raw_b = _raw(a), _raw(b)
        a["default"].close()
        b["default"].close()  # the pool already holds raw_a
        with pytest.raises(sqlite3.ProgrammingError):
            raw_b.execute("SELECT 1")
        assert _raw(b) is raw_a
    finally:
        a.close_all()
        b.close_all()
        close_pools()


def test_pool_zero_turns_pooling_off(tmp_path: Path) -> None:
    settings = sqlite_wal(tmp_path)
    settings["OPTIONS"]["pool"] = 0
    connections = ConnectionHandler({"default": settings})
    try:
        first = _raw(connections)
        connections["default"].close()
        with pytest.raises(sqlite3.ProgrammingError):
            first.execute("SELECT 1")
    finally:
        connections.close_all()


def test_an_in_memory_database_is_not_pooled() -> None:
    connections = ConnectionHandler({"default": database_from_url("sqlite://")})
    connection: Any = connections["default"]
    assert connection.is_in_memory_db()
    raw = _raw(connections)
    connection.close()  # Django ignores close on an in-memory database: it would lose it
    assert connection.connection is raw


def test_a_forked_child_does_not_reuse_its_parents_connections(
    handler: ConnectionHandler,
) -> None:
    parent_raw = _raw(handler)
    handler["default"].close()  # now idle in the parent's pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            child_raw = _raw(handler)
            os.write(write, b"new" if child_raw is not parent_raw else b"reused")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"new"
    os.close(read)
    assert _raw(handler) is parent_raw  # the parent's pool is untouched
