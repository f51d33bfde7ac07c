import base64
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Print a new key-encryption key entry for CRYPTO_KEYS ('kid:base64key')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_id", help="a short id for the key, e.g. k2026a")

    def handle(self, *args: Any, **options: Any) -> None:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.stdout.write(f"{options['key_id']}:{key}")
