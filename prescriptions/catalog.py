"""Loading the shipped medication data (prescriptions/data/): the catalog, the drug-class
vocabulary and the built-in interaction table, and importing an operator's own interaction
dataset. Pure loading code: the model classes are arguments, so the data migration can pass
its historical models (docs/prescriptions-data.md)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.db import transaction

from prescriptions.vocab import ROUTES, SEVERITIES

DATA_DIR = Path(__file__).resolve().parent / "data"
BUILTIN = "builtin"

# Fixed forever: medication ids are uuid5(this, slug), the same on every machine.
MEDICATION_NAMESPACE = uuid.UUID("a2568529-dd9b-5b80-bc2e-22172093bced")

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SCHEDULES = frozenset({"", "II", "III", "IV", "V"})
_CLASS_PREFIX = "class:"

# Column limits of Medication / Interaction (checked here so a bad file fails with a clear
# message instead of a database error halfway through).
_MAX_SLUG, _MAX_NAME, _MAX_RXNORM, _MAX_SEARCH, _MAX_SOURCE = 120, 200, 20, 600, 200
_MAX_TERM, _MAX_EFFECT, _MAX_RULE_SOURCE, _MAX_DATASET = 120, 300, 300, 60


def medication_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(MEDICATION_NAMESPACE, slug)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"{path.name}: file not found in {path.parent}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: the top level must be an object")
    return data


def _str_list(value: Any, where: str, field: str, *, lower: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: {field!r} must be a list of non-empty strings")
    items: list[str] = value
    if lower and any(v != v.strip().lower() for v in items):
        raise ValueError(f"{where}: {field!r} must be lower-case without surrounding spaces")
    return items


def _text(value: Any, where: str, field: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{where}: {field!r} must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"{where}: {field!r} is longer than {limit} characters")
    return value


def read_catalog(data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    """The validated medication entries of medications.json (raises ValueError)."""
    data = _read_json(data_dir / "medications.json")
    medications = data.get("medications")
    if not isinstance(medications, list) or not medications:
        raise ValueError("medications.json: 'medications' must be a non-empty list")
    known_classes = set(load_class_aliases(data_dir))
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, entry in enumerate(medications):
        if not isinstance(entry, dict):
            raise ValueError(f"medications.json entry {index}: must be an object")
        slug = entry.get("slug")
        where = f"medications.json entry {index} ({slug!r})"
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug) or len(slug) > _MAX_SLUG:
            raise ValueError(f"{where}: slug must be lower-case letters, digits and hyphens")
        if slug in seen:
            raise ValueError(f"medications.json: duplicate slug {slug!r}")
        seen.add(slug)
        _text(entry.get("name"), where, "name", _MAX_NAME)
        ingredients = _str_list(entry.get("ingredients"), where, "ingredients", lower=True)
        classes = _str_list(entry.get("classes"), where, "classes", lower=True)
        if not ingredients:
            raise ValueError(f"{where}: at least one ingredient is required")
        unknown = sorted(set(classes) - known_classes)
        if unknown:
            raise ValueError(f"{where}: classes not in classes.json: {', '.join(unknown)}")
        for field in ("forms", "strengths", "brand_names"):
            _str_list(entry.get(field, []), where, field)
        routes = _str_list(entry.get("routes"), where, "routes")
        bad_routes = sorted(set(routes) - set(ROUTES))
        if bad_routes:
            raise ValueError(f"{where}: unknown routes: {', '.join(bad_routes)}")
        rxnorm = _text(entry.get("rxnorm", ""), where, "rxnorm", _MAX_RXNORM, required=False)
        if rxnorm and not rxnorm.isdigit():
            raise ValueError(f"{where}: rxnorm must be digits (an RxCUI) or empty")
        if entry.get("controlled", "") not in _SCHEDULES:
            raise ValueError(f"{where}: controlled must be one of II, III, IV, V or empty")
        out.append(entry)
    return out


def catalog_terms(medications: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every term a rule may use: the catalog's ingredients and "class:<class>"."""
    terms: set[str] = set()
    for entry in medications:
        terms.update(entry["ingredients"])
        terms.update(_CLASS_PREFIX + c for c in entry["classes"])
    return terms


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _clean_rule(
    row: Mapping[str, Any], where: str, *, default_source: str = ""
) -> tuple[str, str, str, str, str]:
    """(a, b, severity, effect, source) with a < b, or ValueError naming `where`."""
    a = str(row.get("a") or "").strip().lower()
    b = str(row.get("b") or "").strip().lower()
    severity = str(row.get("severity") or "").strip().lower()
    effect = " ".join(str(row.get("effect") or "").split())
    source = " ".join(str(row.get("source") or "").split()) or default_source
    if not a or not b:
        raise ValueError(f"{where}: both terms 'a' and 'b' are required")
    if a == b:
        raise ValueError(f"{where}: 'a' and 'b' are the same term ({a!r})")
    if max(len(a), len(b)) > _MAX_TERM:
        raise ValueError(f"{where}: a term is longer than {_MAX_TERM} characters")
    if severity not in SEVERITIES:
        raise ValueError(
            f"{where}: unknown severity {severity!r} (use one of {', '.join(SEVERITIES)})"
        )
    if not effect:
        raise ValueError(f"{where}: 'effect' is required")
    if len(effect) > _MAX_EFFECT:
        raise ValueError(f"{where}: 'effect' is longer than {_MAX_EFFECT} characters")
    if not source:
        raise ValueError(f"{where}: 'source' is required")
    if len(source) > _MAX_RULE_SOURCE:
        raise ValueError(f"{where}: 'source' is longer than {_MAX_RULE_SOURCE} characters")
    first, second = _ordered(a, b)
    return first, second, severity, effect, source


def read_rules(
    data_dir: Path = DATA_DIR, *, terms: set[str] | None = None
) -> list[tuple[str, str, str, str, str]]:
    """The validated built-in rules of interactions.json, each (a, b, severity, effect,
    source) with a < b. With `terms`, every term must be one of them."""
    data = _read_json(data_dir / "interactions.json")
    rows = data.get("interactions")
    if not isinstance(rows, list):
        raise ValueError("interactions.json: 'interactions' must be a list")
    rules: list[tuple[str, str, str, str, str]] = []
    pairs: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"interactions.json rule {index}: must be an object")
        where = f"interactions.json rule {index} ({row.get('a')!r} + {row.get('b')!r})"
        rule = _clean_rule(row, where)
        if terms is not None:
            for term in rule[:2]:
                if term not in terms:
                    raise ValueError(f"{where}: term {term!r} is not in the catalog")
        if rule[:2] in pairs:
            raise ValueError(f"{where}: the pair appears twice")
        pairs.add(rule[:2])
        rules.append(rule)
    return rules


def load_class_aliases(data_dir: Path = DATA_DIR) -> dict[str, list[str]]:
    """class -> the names patients use for it ("sulfonamides" -> ["sulfa", ...])."""
    data = _read_json(data_dir / "classes.json")
    classes = data.get("classes")
    if not isinstance(classes, dict):
        raise ValueError("classes.json: 'classes' must be an object")
    out: dict[str, list[str]] = {}
    for name, entry in classes.items():
        if not isinstance(entry, dict):
            raise ValueError(f"classes.json: {name!r} must be an object")
        out[name] = list(_str_list(entry.get("aliases", []), f"classes.json {name!r}", "aliases"))
    return out


def _search_text(entry: Mapping[str, Any]) -> str:
    words = [entry["name"], *entry.get("brand_names", []), *entry["ingredients"]]
    return " ".join(" ".join(words).lower().split())[:_MAX_SEARCH]


def load_catalog(
    medication_model: Any, interaction_model: Any, *, data_dir: Path = DATA_DIR
) -> tuple[int, int]:
    """Upsert the catalog by slug and replace the built-in interaction rules. Returns
    (medications, interactions). Run it inside a transaction (the migration is one;
    `load_medications` opens one)."""
    medications = read_catalog(data_dir)
    rules = read_rules(data_dir, terms=catalog_terms(medications))
    sources = _read_json(data_dir / "medications.json").get("sources") or [""]
    source = str(sources[0])[:_MAX_SOURCE]

    existing = {m.slug: m for m in medication_model.objects.all()}
    fields = [
        "name",
        "ingredients",
        "classes",
        "forms",
        "strengths",
        "routes",
        "brand_names",
        "rxnorm",
        "controlled",
        "search",
        "source",
    ]
    to_create, to_update = [], []
    for entry in medications:
        values = {
            "name": entry["name"],
            "ingredients": list(entry["ingredients"]),
            "classes": list(entry["classes"]),
            "forms": list(entry.get("forms", [])),
            "strengths": list(entry.get("strengths", [])),
            "routes": list(entry["routes"]),
            "brand_names": list(entry.get("brand_names", [])),
            "rxnorm": entry.get("rxnorm", ""),
            "controlled": entry.get("controlled", ""),
            "search": _search_text(entry),
            "source": source,
        }
        row = existing.get(entry["slug"])
        if row is None:
            to_create.append(
                medication_model(id=medication_id(entry["slug"]), slug=entry["slug"], **values)
            )
        else:
            for field, value in values.items():
                setattr(row, field, value)
            to_update.append(row)
    medication_model.objects.bulk_create(to_create, batch_size=200)
    if to_update:
        medication_model.objects.bulk_update(to_update, fields, batch_size=200)

    interaction_model.objects.filter(dataset=BUILTIN).delete()
    interaction_model.objects.bulk_create(
        [
            interaction_model(a=a, b=b, severity=sev, effect=eff, source=src, dataset=BUILTIN)
            for a, b, sev, eff, src in rules
        ],
        batch_size=500,
    )
    return len(medications), len(rules)


def import_interactions(
    interaction_model: Any, rows: Iterable[Mapping[str, str]], *, dataset: str, source: str
) -> int:
    """Replace the interaction rules of `dataset` (not the built-in one) with `rows` (each
    with a, b, severity, effect and optionally source; `source` is the default). All rows are
    checked before anything is written; returns how many rules the dataset now has."""
    name = dataset.strip()
    if not name:
        raise ValueError("A dataset name is required.")
    if name == BUILTIN:
        raise ValueError(
            "The built-in dataset is shipped with the code; load it with load_medications."
        )
    if len(name) > _MAX_DATASET:
        raise ValueError(f"The dataset name is longer than {_MAX_DATASET} characters.")
    default_source = " ".join(source.split())
    rules: dict[tuple[str, str], tuple[str, str, str, str, str]] = {}
    for number, row in enumerate(rows, start=1):
        rule = _clean_rule(row, f"row {number}", default_source=default_source)
        if rule[:2] in rules:
            raise ValueError(f"row {number}: the pair {rule[0]!r} + {rule[1]!r} appears twice")
        rules[rule[:2]] = rule
    with transaction.atomic():
        interaction_model.objects.filter(dataset=name).delete()
        interaction_model.objects.bulk_create(
            [
                interaction_model(a=a, b=b, severity=sev, effect=eff, source=src, dataset=name)
                for a, b, sev, eff, src in rules.values()
            ],
            batch_size=500,
        )
    return len(rules)
