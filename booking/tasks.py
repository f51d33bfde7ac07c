"""Booking tasks: ids in, one service call, idempotent (STYLE: `<service>_task`)."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task


@shared_task
def release_lapsed_hold_task(hold_id: str) -> None:
    """Queued for a hold's expiry: if it lapsed unused, offer the slot to the next person."""
    from booking.services import release_lapsed_hold

    release_lapsed_hold(hold_id=UUID(hold_id))


@shared_task
def release_lapsed_holds_task() -> int:
    from booking.services import release_lapsed_holds

    return release_lapsed_holds()


@shared_task
def refresh_all_slots_task() -> int:
    from booking.services import refresh_all_slots

    return refresh_all_slots()


@shared_task
def send_due_reminders_task() -> int:
    """Every minute (beat): owe the reminders that came due, and escalate the unconfirmed."""
    from booking.reminders import escalate_unconfirmed, send_due_reminders

    owed = send_due_reminders()
    escalate_unconfirmed()
    return owed
