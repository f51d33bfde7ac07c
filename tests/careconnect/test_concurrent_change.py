"""Two transactions that collide (a deadlock, on PostgreSQL) end in a clear 409 `conflict`
(REST) or `conflict` error frame (chat), not a 500: the database rolled the loser back whole,
so trying again is safe."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import DatabaseError, OperationalError, connection, transaction

from careconnect.accounts.models import User
from careconnect.api import exception_handler
from careconnect.errors import concurrent_change
from tests.factories import make_patient

pytestmark = pytest.mark.django_db(transaction=True)


def _deadlock(first: User, second: User) -> list[Exception]:
    """Two threads lock the same two rows in opposite orders; PostgreSQL aborts one."""
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def lock(a: User, b: User) -> None:
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=a.pk)
                barrier.wait(timeout=10)
                User.objects.select_for_update().get(pk=b.pk)
        except DatabaseError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=lock, args=(first, second)),
        threading.Thread(target=lock, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has one writer at a time (BEGIN IMMEDIATE): a second transaction waits for "
    "the first instead of deadlocking with it, so there is no collision to answer",
)
def test_a_real_deadlock_is_answered_409_conflict_and_an_error_frame() -> None:
    # given: a deadlock between two transactions, as PostgreSQL reports it
    [error] = _deadlock(make_patient(), make_patient())
    # when: the API answers it
    response: Any = exception_handler(error, {})
    # then: 409 in API.md's shape, retry allowed; chat says the same in a frame
    assert response.status_code == 409
    assert response.data["error"]["code"] == "conflict"
    assert "Try again" in response.data["error"]["message"]
    assert response["Retry-After"] == "1"
    collided = concurrent_change(error)
    assert collided is not None
    assert collided.code == "conflict"


def test_other_database_errors_are_not_passed_off_as_conflicts() -> None:
    plain = OperationalError("disk I/O error")
    assert concurrent_change(plain) is None
    assert exception_handler(plain, {}) is None  # DRF re-raises: a real 500, logged
