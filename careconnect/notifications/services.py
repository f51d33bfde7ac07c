"""Outbound notifications. Texts never contain health data: they say what to act on (date,
time, doctor, center) and link into the app (DESIGN §5). Sending runs in Celery after commit.

`notify` is the one way in: it writes one `Notification` row per channel the person chose
(the row's unique `dedupe_key` makes a repeated event a no-op) and queues its delivery after
commit. `deliver` sends one row, once: it claims the row under a lock, skips a row already
sent, waits out quiet hours, and writes embedded-default files named by the row's id, so a
worker killed mid-delivery and retried never sends twice.

Feature apps act on replies without this module importing them: they register handlers for
one-tap link purposes and SMS reply commands (`register_link_handler`, `register_sms_command`)
from their `AppConfig.ready()`, as chat actions are registered.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from careconnect.accounts.models import User
from careconnect.errors import ConflictError, InvalidInputError, InvalidTokenError, NotFoundError
from careconnect.notifications.models import (
    ALWAYS,
    DEFAULT_CHANNELS,
    Channel,
    Kind,
    Notification,
    NotificationSettings,
    Preference,
    UsedLink,
)
from careconnect.notifications.tasks import deliver_notification_task, send_email_task

logger = logging.getLogger(__name__)

LINK_SALT = "careconnect.notifications.link"
# A row claimed longer ago than this by a worker that never finished (killed) is retaken.
CLAIM_TTL = timedelta(minutes=5)
PUSH_EVENT = "notification.new"


def app_link(path: str) -> str:
    return f"{settings.PUBLIC_URL}{path}"


def queue_email(*, to: str, subject: str, body: str, kind: str) -> None:
    """A transactional email outside the notification rows (account emails: confirmation,
    password reset). Sent after the surrounding transaction commits."""
    transaction.on_commit(
        partial(send_email_task.delay, to=to, subject=subject, body=body, kind=kind)
    )


def push_group(user_id: UUID | str) -> str:
    """The channel-layer group a person's open app tabs listen on for notifications (the
    chat socket joins it)."""
    return f"notify.{user_id}"


# ------------------------------------------------------------------ settings and preferences


def settings_of(user: User) -> NotificationSettings:
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user)


def zone_of(user: User, fallback: str = "UTC") -> ZoneInfo:
    name = settings_of(user).timezone or fallback
    try:
        return ZoneInfo(name or fallback)
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def channels_for(user: User, kind: str) -> set[str]:
    """The channels this person gets `kind` by: their choice, SMS only with a verified
    number, and the channels a kind always uses."""
    pref = Preference.objects.filter(user=user, kind=kind).first()
    chosen = (
        {Channel.EMAIL: pref.email, Channel.SMS: pref.sms, Channel.IN_APP: pref.in_app}
        if pref
        else dict(DEFAULT_CHANNELS)
    )
    channels = {str(c) for c, on in chosen.items() if on}
    channels |= {str(c) for c in ALWAYS.get(Kind(kind), set())}
    if Channel.SMS in channels and not settings_of(user).sms_verified_at:
        channels.discard(Channel.SMS)
    if Channel.EMAIL in channels and not user.email:
        channels.discard(Channel.EMAIL)
    return channels


@transaction.atomic
def update_preferences(
    *,
    actor: User,
    kinds: dict[str, dict[str, bool]] | None = None,
    timezone_name: str | None = None,
    quiet_hours: tuple[time, time] | bool | None = False,
) -> None:
    """Change channels per kind, the time zone and quiet hours (`None` clears them;
    `False` leaves them)."""
    for kind, channels in (kinds or {}).items():
        if kind not in Kind.values:
            raise InvalidInputError(kinds=[f"Unknown kind {kind[:40]!r}."])
        if channels.get("sms") and not settings_of(actor).sms_verified_at:
            raise InvalidInputError(sms=["Verify a phone number before turning on SMS."])
        pref, _ = Preference.objects.get_or_create(
            user=actor,
            kind=kind,
            defaults={str(c): on for c, on in DEFAULT_CHANNELS.items()},
        )
        for name in ("email", "sms", "in_app"):
            if name in channels:
                setattr(pref, name, bool(channels[name]))
        pref.save(update_fields=["email", "sms", "in_app"])
    if timezone_name is not None or quiet_hours is not False:
        row, _ = NotificationSettings.objects.select_for_update().get_or_create(user=actor)
        if timezone_name is not None:
            try:
                ZoneInfo(timezone_name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise InvalidInputError(timezone=["Unknown time zone."]) from exc
            row.timezone = timezone_name
        if quiet_hours is None:
            row.quiet_start = row.quiet_end = None
        elif isinstance(quiet_hours, tuple):
            row.quiet_start, row.quiet_end = quiet_hours
        row.save()


def quiet_until(user: User, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if `now` is inside them (in their time zone)."""
    row = settings_of(user)
    if row.quiet_start is None or row.quiet_end is None:
        return None
    zone = zone_of(user)
    local = now.astimezone(zone)
    start, end = row.quiet_start, row.quiet_end
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(ZoneInfo("UTC"))


# ------------------------------------------------------------------ notify


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    url: str


def notify(
    *,
    recipient: User,
    kind: str,
    event: str,
    key: str,
    title: str,
    body: str,
    link: str = "",
    actions: Iterable[Action] = (),
    center_id: UUID | None = None,
    subject: tuple[str, object] | None = None,
    channels: set[str] | None = None,
) -> list[Notification]:
    """Owe `recipient` a notification of `event` (call inside the change's transaction): one
    row per channel, each once per `key`. Security alerts ignore quiet hours."""
    wanted = channels_for(recipient, kind) if channels is None else channels
    rows = []
    for channel in sorted(wanted):
        try:
            with transaction.atomic():
                row = Notification.objects.create(
                    recipient=recipient,
                    kind=kind,
                    event=event,
                    channel=channel,
                    dedupe_key=f"{key}:{recipient.id}:{channel}"[:200],
                    center_id=center_id,
                    subject_type=subject[0] if subject else "",
                    subject_id=str(subject[1]) if subject else "",
                    title=title[:200],
                    body=body[:2000],
                    link=link,
                    actions=[{"label": a.label, "url": a.url} for a in actions],
                )
        except IntegrityError:
            continue  # owed already: the event happened before (a repeated scan, a retry)
        rows.append(row)
        if channel == Channel.IN_APP:
            # The row is the in-app notification: it is there once committed, and the tabs
            # are told from this process (the one whose channel layer reaches them on the
            # embedded default), without a round trip through a worker.
            row.status, row.sent_at, row.attempts = Notification.Status.SENT, timezone.now(), 1
            row.save(update_fields=["status", "sent_at", "attempts"])
            transaction.on_commit(partial(_push_after_commit, row))
        else:
            transaction.on_commit(partial(deliver_notification_task.delay, str(row.id)))
    return rows


def _push_after_commit(row: Notification) -> None:
    from careconnect.notifications import channels as senders

    senders.push_in_app(row)


# ------------------------------------------------------------------ deliver


def _claim(notification_id: UUID | str, now: datetime, claim: str) -> Notification | None:
    """Lock the row and decide: None when there is nothing to do now."""
    row = (
        # of=("self",): lock the row only. The center is a nullable FK (LEFT JOIN), and
        # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient", "center")
        .filter(id=notification_id)
        .first()
    )
    if row is None or row.status in (
        Notification.Status.SENT,
        Notification.Status.DELIVERED,
        Notification.Status.SKIPPED,
    ):
        return None
    if (
        row.status == Notification.Status.SENDING
        and row.claimed_at is not None
        and row.claimed_at > now - CLAIM_TTL
        and (not claim or row.claim != claim)
    ):
        # Another task is sending it now (a second task for the same row). The same task's
        # message coming back means its worker died mid-send: that one retakes the row.
        return None
    if row.channel != Channel.IN_APP and row.kind != Kind.SECURITY:
        until = quiet_until(row.recipient, now)
        if until is not None:
            row.status, row.not_before = Notification.Status.DEFERRED, until
            row.save(update_fields=["status", "not_before"])
            return None
    if row.not_before and row.not_before > now:
        return None
    return row


def deliver(notification_id: UUID | str, claim: str = "") -> str:
    """Send one notification (the Celery task's body). Idempotent: a row is sent once; the
    embedded default's files are named by the row id, so a retry after a crash rewrites the
    same file rather than adding one."""
    from careconnect.notifications import channels as senders

    now = timezone.now()
    with transaction.atomic():
        row = _claim(notification_id, now, claim)
        if row is None:
            return "nothing to do"
        row.attempts += 1
        row.status, row.claimed_at, row.claim = Notification.Status.SENDING, now, claim
        row.save(update_fields=["attempts", "status", "claimed_at", "claim"])
    try:
        provider_id = senders.send(row)
    except senders.PermanentFailureError as exc:
        Notification.objects.filter(id=row.id).update(
            status=Notification.Status.FAILED, error=str(exc)[:300]
        )
        logger.warning("notification %s failed: %s", row.id, exc)
        return "failed"
    with transaction.atomic():
        Notification.objects.filter(id=row.id).update(
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
            provider_id=provider_id,
            error="",
        )
    if row.channel == Channel.IN_APP:
        senders.push_in_app(row)
    return "sent"


def release_deferred(now: datetime | None = None) -> int:
    """Beat: rows that waited for quiet hours to end, and rows left queued (a lost task)."""
    now = now or timezone.now()
    from django.db.models import Q

    waiting = Q(status=Notification.Status.DEFERRED) | Q(
        status=Notification.Status.QUEUED, created_at__lte=now - timedelta(minutes=2)
    )
    stale = Q(status=Notification.Status.SENDING, claimed_at__lte=now - CLAIM_TTL)
    due = list(
        Notification.objects.filter(waiting | stale)
        .filter(models_q_due(now))
        .values_list("id", flat=True)[:500]
    )
    for notification_id in due:
        deliver_notification_task.delay(str(notification_id))
    return len(due)


def models_q_due(now: datetime) -> Any:
    from django.db.models import Q

    return Q(not_before__isnull=True) | Q(not_before__lte=now)


# ------------------------------------------------------------------ in-app


def inbox(*, actor: User, limit: int = 50) -> tuple[list[Notification], int]:
    rows = Notification.objects.filter(recipient=actor, channel=Channel.IN_APP).exclude(
        status=Notification.Status.QUEUED
    )
    unread = rows.filter(read_at__isnull=True).count()
    return list(rows[:limit]), unread


@transaction.atomic
def mark_read(*, actor: User, ids: list[UUID] | None) -> int:
    rows = Notification.objects.filter(
        recipient=actor, channel=Channel.IN_APP, read_at__isnull=True
    )
    if ids is not None:
        rows = rows.filter(id__in=ids)
    return rows.update(read_at=timezone.now())


# ------------------------------------------------------------------ one-tap links


LinkHandler = Callable[[User, str], dict[str, Any]]
_link_handlers: dict[str, LinkHandler] = {}


def register_link_handler(purpose: str, handler: LinkHandler) -> None:
    """`handler(recipient, subject_id) -> {"message": ..., "redirect"?: ...}`; raises an
    ApplicationError when it cannot (a cancelled appointment, say)."""
    _link_handlers[purpose] = handler


def make_link(*, purpose: str, recipient: User, subject_id: object, expires_at: datetime) -> str:
    """A signed, single-purpose, expiring link for one person and one object."""
    token = signing.dumps(
        {
            "p": purpose,
            "u": str(recipient.id),
            "s": str(subject_id),
            "x": int(expires_at.timestamp()),
            "j": secrets.token_urlsafe(12),
        },
        salt=LINK_SALT,
        compress=True,
    )
    return app_link(f"/r/{token}")


class LinkUsedError(ConflictError):
    code = "link_used"
    default_message = "This link was already used."


class LinkExpiredError(ConflictError):
    code = "link_expired"
    default_message = "This link has expired. Open the app to manage your appointment."


def read_link(token: str) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=LINK_SALT)
        purpose, user_id, subject, expires = data["p"], data["u"], data["s"], int(data["x"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidTokenError() from exc
    if purpose not in _link_handlers:
        raise InvalidTokenError()
    return {"purpose": purpose, "user": user_id, "subject": subject, "expires": expires,
            "jti": str(data.get("j", ""))}  # fmt: skip


def link_info(*, token: str, actor: User | None) -> dict[str, Any]:
    """What a link will do, read before it is used: refused as `use_link` would refuse it
    (expired, someone else's, used already), so the page says so before asking."""
    data = read_link(token)
    if timezone.now().timestamp() > data["expires"]:
        raise LinkExpiredError()
    if actor is not None and str(actor.id) != data["user"]:
        raise NotFoundError("This link is for someone else.")
    if UsedLink.objects.filter(jti=data["jti"]).exists():
        raise LinkUsedError()
    return data


@transaction.atomic
def use_link(*, token: str, actor: User | None) -> dict[str, Any]:
    """Do what a one-tap link says, once. A signed-in person other than the link's recipient
    gets 404 (the link is someone else's)."""
    data = read_link(token)
    if timezone.now().timestamp() > data["expires"]:
        raise LinkExpiredError()
    if actor is not None and str(actor.id) != data["user"]:
        raise NotFoundError("This link is for someone else.")
    recipient = User.objects.filter(id=data["user"], is_active=True).first()
    if recipient is None:
        raise InvalidTokenError()
    try:
        with transaction.atomic():
            UsedLink.objects.create(jti=data["jti"])
    except IntegrityError as exc:
        raise LinkUsedError() from exc
    result = _link_handlers[data["purpose"]](recipient, data["subject"])
    return {"purpose": data["purpose"], **result}


# ------------------------------------------------------------------ SMS replies


SmsHandler = Callable[[User], str]
_sms_commands: dict[str, SmsHandler] = {}


def register_sms_command(word: str, handler: SmsHandler) -> None:
    _sms_commands[word.upper()] = handler


def sms_commands() -> dict[str, SmsHandler]:
    return dict(_sms_commands)


def number_hash(number: str) -> str:
    """A keyed hash of an E.164 number: finds the sender of an inbound SMS without storing
    numbers in the clear."""
    return hmac.new(settings.SECRET_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()
