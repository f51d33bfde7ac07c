"""Test helpers that read what the system really produced (emails, raw database rows)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.core import mail
from django.db import connection


def last_email_to(address: str) -> Any:
    for message in reversed(mail.outbox):
        if address.lower() in [to.lower() for to in message.to]:
            return message
    raise AssertionError(f"no email to {address}; sent: {[m.to for m in mail.outbox]}")


def link_in(message: Any) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


def query_param(link: str, name: str) -> str:
    return parse_qs(urlparse(link).query)[name][0]


def raw_database_text() -> str:
    """Every row of every table, as text (bytes decoded leniently): for plaintext scans."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("utf-8", "replace"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)
