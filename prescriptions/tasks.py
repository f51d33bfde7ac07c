"""Prescription tasks: ids in, one service call, idempotent (STYLE: `<service>_task`)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, acks_late=True, max_retries=4, default_retry_delay=30)
def deliver_pharmacy_send_task(self: Any, send_id: str) -> str:
    """Deliver a send to its pharmacy; a failure is retried with backoff, then recorded."""
    from prescriptions import delivery
    from prescriptions.services import deliver_pharmacy_send

    final = self.request.retries >= self.max_retries
    try:
        return deliver_pharmacy_send(send_id, final_attempt=final)
    except delivery.DeliveryError as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task
def send_medication_reminders_task() -> int:
    from prescriptions.services import send_medication_reminders

    return send_medication_reminders()


@shared_task
def expire_prescriptions_task() -> int:
    from prescriptions.services import expire_prescriptions

    return expire_prescriptions()
