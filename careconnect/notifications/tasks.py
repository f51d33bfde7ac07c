"""Notification tasks: ids in, one service call, idempotent (STYLE `<service>_task`). Late
acknowledgement: a worker killed mid-delivery leaves the message to be redelivered, and
`deliver` makes that second run send nothing twice."""

from typing import Any

from celery import shared_task

from careconnect.notifications.delivery import send_email_now


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email_task(*, to: str, subject: str, body: str, kind: str) -> None:
    send_email_now(to=to, subject=subject, body=body, kind=kind)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_notification_task(self: Any, notification_id: str) -> str:
    from careconnect.notifications.services import deliver

    # The task id is the claim: a redelivery of this very message (its worker died) may
    # retake the row it left "sending"; another task for the same row may not.
    return deliver(notification_id, claim=str(self.request.id or ""))


@shared_task
def release_deferred_notifications_task() -> int:
    from careconnect.notifications.services import release_deferred

    return release_deferred()
