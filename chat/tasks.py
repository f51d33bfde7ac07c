"""Chat tasks: ids in, one service call, idempotent (STYLE: `<service>_task`)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def notify_unread_task(conversation_id: str, user_id: str) -> bool:
    """Queued (with a countdown) when someone writes to a user: email them if the message is
    still unread and they are offline. Safe to run twice: one email per unread run."""
    from chat.services import notify_unread

    return notify_unread(conversation_id=conversation_id, user_id=user_id)
