"""Import an interaction dataset the operator has the right to use (a CSV file)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prescriptions.catalog import catalog_terms, import_interactions
from prescriptions.models import Interaction, Medication

REQUIRED_COLUMNS = ("a", "b", "severity", "effect")


class Command(BaseCommand):
    help = (
        "Replace the interaction rules of one named dataset with the rows of a CSV file "
        "(columns a, b, severity, effect and optionally source). Terms are ingredient names or "
        "class:<class>; severity is contraindicated, major, moderate or minor. Every row is "
        "checked first: one bad row and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8, with a header row).")
        parser.add_argument(
            "--dataset", required=True, help="Dataset name, e.g. 'hospital-formulary'."
        )
        parser.add_argument(
            "--source",
            required=True,
            help="Where the rules come from (and the licence), used for rows without a source.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                columns = [c.strip().lower() for c in reader.fieldnames or []]
                missing = [c for c in REQUIRED_COLUMNS if c not in columns]
                if missing:
                    raise CommandError(
                        f"{path}: missing column(s) {', '.join(missing)}; "
                        "the header must name a, b, severity, effect (and optionally source)."
                    )
                rows = [
                    {str(k).strip().lower(): (v or "") for k, v in row.items() if k is not None}
                    for row in reader
                ]
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"{path} is not a readable UTF-8 CSV file: {exc}") from exc
        try:
            count = import_interactions(
                Interaction, rows, dataset=options["dataset"], source=options["source"]
            )
        except ValueError as exc:
            raise CommandError(
                f"Nothing was imported: {exc} (rows count from 1 after the header)"
            ) from exc
        dataset = options["dataset"].strip()
        self.stdout.write(f"Dataset {dataset!r} now has {count} interaction rules.")
        known = catalog_terms(Medication.objects.values("ingredients", "classes"))
        stored = Interaction.objects.filter(dataset=dataset).values_list("a", "b")
        unknown = sorted({term for pair in stored for term in pair} - known)
        if unknown:
            shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
            self.stdout.write(
                self.style.WARNING(
                    f"{len(unknown)} term(s) match no catalog ingredient or class, so their "
                    f"rules never fire: {shown}"
                )
            )
