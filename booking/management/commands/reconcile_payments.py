"""List (and with --fix, repair) payments whose state differs from the gateway's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from booking.payments.services import reconcile


class Command(BaseCommand):
    help = (
        "Compare payments with the gateway's intents; list drift (say, a payment the gateway "
        "says succeeded that we still show as due) and, with --fix, apply the gateway's state."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="Apply the gateway's state.")
        parser.add_argument(
            "--days", type=int, default=0, help="Only payments created in the last N days."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.now() - timedelta(days=options["days"]) if options["days"] else None
        drifts = reconcile(fix=options["fix"], since=since)
        for drift in drifts:
            state = "fixed" if drift.fixed else "drift"
            self.stdout.write(
                f"{state}\tpayment {drift.payment}\tours={drift.ours}\tgateway={drift.gateway}"
            )
        self.stdout.write(f"{len(drifts)} payment(s) differ from the gateway")
