"""Load (or reload) the shipped medication catalog and built-in interaction rules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from prescriptions.catalog import DATA_DIR, load_catalog
from prescriptions.models import Interaction, Medication


class Command(BaseCommand):
    help = (
        "Upsert the medication catalog from prescriptions/data/medications.json (by slug) and "
        "replace the built-in interaction rules from interactions.json. Other imported "
        "interaction datasets are left alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                medications, interactions = load_catalog(Medication, Interaction)
        except ValueError as exc:
            raise CommandError(f"Nothing was loaded: {exc}") from exc
        self.stdout.write(
            f"Loaded {medications} medications and {interactions} built-in interaction rules "
            f"from {DATA_DIR}"
        )
