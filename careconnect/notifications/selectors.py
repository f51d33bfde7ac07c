"""Notification reads for the API: a person's preferences as one document, and a center's
delivery log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from careconnect.accounts.models import Role, RoleAssignment, User
from careconnect.notifications.models import (
    DEFAULT_CHANNELS,
    Channel,
    Kind,
    Notification,
    Preference,
)
from careconnect.notifications.services import settings_of

LOG_LIMIT = 200


def get_preferences(*, user: User) -> dict[str, Any]:
    chosen = {p.kind: p for p in Preference.objects.filter(user=user)}
    kinds = []
    for kind in Kind:
        pref = chosen.get(kind.value)
        kinds.append(
            {
                "kind": kind.value,
                "label": str(kind.label),
                "email": pref.email if pref else DEFAULT_CHANNELS[Channel.EMAIL],
                "sms": pref.sms if pref else DEFAULT_CHANNELS[Channel.SMS],
                "in_app": pref.in_app if pref else DEFAULT_CHANNELS[Channel.IN_APP],
            }
        )
    row = settings_of(user)
    quiet = (
        {"start": row.quiet_start.strftime("%H:%M"), "end": row.quiet_end.strftime("%H:%M")}
        if row.quiet_start is not None and row.quiet_end is not None
        else None
    )
    return {
        "kinds": kinds,
        "timezone": row.timezone,
        "quiet_hours": quiet,
        "sms": {"number_last4": row.sms_last4, "verified": row.sms_verified_at is not None},
    }


def admin_center_ids(user: User) -> list[UUID]:
    return list(
        RoleAssignment.objects.filter(user=user, role=Role.CENTER_ADMIN).values_list(
            "center_id", flat=True
        )
    )


def list_delivery_log(
    *, center_ids: list[UUID], channel: str | None = None, status: str | None = None
) -> list[Notification]:
    rows = Notification.objects.filter(center_id__in=center_ids).select_related("recipient")
    if channel:
        rows = rows.filter(channel=channel)
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-created_at")[:LOG_LIMIT])
