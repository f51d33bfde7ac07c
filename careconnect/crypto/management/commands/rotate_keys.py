from typing import Any

from django.core.management.base import BaseCommand

from careconnect.crypto.keyring import get_keyring
from careconnect.crypto.services import rotate_data_keys


class Command(BaseCommand):
    help = "Re-wrap every data key under the active key-encryption key (the first in CRYPTO_KEYS)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_data_keys()
        self.stdout.write(f"re-wrapped {count} data keys under {get_keyring().active_id}")
