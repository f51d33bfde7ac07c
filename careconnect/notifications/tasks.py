from celery import shared_task

from careconnect.notifications.delivery import send_email_now


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email_task(*, to: str, subject: str, body: str, kind: str) -> None:
    send_email_now(to=to, subject=subject, body=body, kind=kind)
