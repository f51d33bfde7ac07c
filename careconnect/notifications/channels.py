"""Sending one notification row by its channel. Email: branded HTML + plain text per center,
its Message-ID the row's id (the embedded default's file is named by it). SMS: Twilio through
its SDK, or a file under var/sms/ named by the row's id (careconnect.notifications.sms).
In-app: the row is the notification; it is pushed to the person's open tabs."""

from __future__ import annotations

import html
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from careconnect.notifications import sms
from careconnect.notifications.models import Channel, Notification

logger = logging.getLogger(__name__)


class PermanentFailureError(Exception):
    """Retrying will not help (no address, no verified number, a refused number)."""


def send(row: Notification) -> str | None:
    """Send `row`; returns the provider's id when there is one (Twilio's SID)."""
    if row.channel == Channel.EMAIL:
        _send_email(row)
        return None
    if row.channel == Channel.SMS:
        try:
            return sms.send_notification_sms(row)
        except sms.SmsRefusedError as exc:
            raise PermanentFailureError(str(exc)) from exc
    return None  # in-app: the row itself is what the person sees


def _brand(row: Notification) -> str:
    return row.center.name if row.center is not None else "CareConnect"


def _send_email(row: Notification) -> None:
    if not row.recipient.email:
        raise PermanentFailureError("no email address")
    brand = _brand(row)
    lines = [row.body, ""]
    if row.link:
        lines += [f"Open: {row.link}", ""]
    for action in row.actions:
        lines.append(f"{action['label']}: {action['url']}")
    text = "\n".join(lines).rstrip() + f"\n\n-- \n{brand} via CareConnect\n"
    buttons = "".join(
        f'<a href="{html.escape(a["url"])}" style="display:inline-block;margin:4px 8px 4px 0;'
        f"padding:10px 16px;background:#0b6e4f;color:#fff;border-radius:6px;"
        f'text-decoration:none">{html.escape(a["label"])}</a>'
        for a in row.actions
    )
    open_link = f'<p><a href="{html.escape(row.link)}">Open CareConnect</a></p>' if row.link else ""
    body_html = (
        '<div style="font-family:system-ui,sans-serif;max-width:560px;margin:auto">'
        f'<h2 style="color:#0b6e4f;margin-bottom:4px">{html.escape(brand)}</h2>'
        f"<h3>{html.escape(row.title)}</h3>"
        f"<p>{html.escape(row.body).replace(chr(10), '<br>')}</p>{buttons}{open_link}"
        '<p style="color:#666;font-size:12px">Sent by CareConnect. Change how you hear from '
        "us in Settings → Notifications.</p></div>"
    )
    message = EmailMultiAlternatives(
        subject=row.title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(row.recipient.email)],
        headers={"Message-ID": f"<{row.id}@careconnect.notifications>"},
    )
    message.attach_alternative(body_html, "text/html")
    message.send()


def push_in_app(row: Notification) -> None:
    """Tell the person's open tabs (over the chat websocket) that a notification arrived."""
    from careconnect.notifications.services import PUSH_EVENT, push_group

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            push_group(row.recipient_id),
            {
                "type": PUSH_EVENT,
                "notification": {
                    "id": str(row.id),
                    "kind": row.kind,
                    "title": row.title,
                    "body": row.body,
                    "link": row.link,
                    "actions": row.actions,
                    "created_at": row.created_at.isoformat(),
                },
            },
        )
    except Exception:  # a push is a doorbell: the inbox is the record
        logger.warning("in-app push failed for %s", row.id, exc_info=True)
