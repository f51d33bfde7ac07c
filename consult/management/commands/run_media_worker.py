"""Run one consult media worker (DESIGN §6): aiortc rooms for the signaling consumers of
every daphne process, reached through the channel layer (consult/media_worker.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consult.media_worker import MediaWorker, run_until_stopped


class Command(BaseCommand):
    help = (
        "Hold video consult rooms (aiortc) for the signaling consumers, reached through the "
        "channel layer: at most CONSULT_MAX_ROOMS rooms; run more workers to scale. Used "
        "with CONSULT_MEDIA=worker and REDIS_URL (docker-compose's `media` service)."
    )
    requires_system_checks: list[str] = []  # starts fast; touches no database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=None, help="Shown in logs (default host-pid).")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
        if not backend or backend.endswith("InMemoryChannelLayer"):
            raise CommandError(
                "A media worker is reached through a shared channel layer: set REDIS_URL "
                "(the embedded default keeps its rooms in the daphne process instead)."
            )
        if settings.CONSULT_MEDIA != "worker":
            self.stderr.write(
                "note: CONSULT_MEDIA is not 'worker' here; the web processes need "
                "CONSULT_MEDIA=worker to send their rooms to this worker"
            )
        asyncio.run(run_until_stopped(MediaWorker(name=options["name"])))
