"""The shipped medication data (prescriptions/data/) and its loaders: the catalog is complete
and consistent, every interaction rule resolves to catalog terms, the ONC high-priority pairs
are present, and loading into the database is idempotent."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from prescriptions import checks
from prescriptions.catalog import (
    DATA_DIR,
    MEDICATION_NAMESPACE,
    catalog_terms,
    import_interactions,
    load_catalog,
    load_class_aliases,
    medication_id,
    read_catalog,
    read_rules,
)
from prescriptions.models import Interaction, Medication
from prescriptions.vocab import ROUTES, SEVERITIES

ONC = "ONC high-priority DDI list"


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return data


MEDICATIONS: list[dict[str, Any]] = _json("medications.json")["medications"]
RULES: list[dict[str, Any]] = _json("interactions.json")["interactions"]
CLASSES: dict[str, Any] = _json("classes.json")["classes"]
BY_SLUG = {m["slug"]: m for m in MEDICATIONS}
INDEX = checks.RuleIndex(checks.Rule(**r) for r in RULES)


def catalog_drug(slug: str, *, new: bool = True) -> checks.Drug:
    entry = BY_SLUG[slug]
    return checks.Drug(
        name=entry["name"],
        ingredients=frozenset(entry["ingredients"]),
        classes=frozenset(entry["classes"]),
        new=new,
    )


def strongest(x: str, y: str) -> checks.Rule | None:
    found = INDEX.between(catalog_drug(x), catalog_drug(y))
    return min(found, key=lambda r: checks.SEVERITY_RANK[r.severity]) if found else None


# ------------------------------------------------------------------ the catalog


def test_catalog_is_large_with_unique_well_formed_slugs() -> None:
    assert len(MEDICATIONS) >= 300
    slugs = [m["slug"] for m in MEDICATIONS]
    assert len(slugs) == len(set(slugs))
    assert len(read_catalog()) == len(MEDICATIONS)  # the loader's own validation passes


def test_every_entry_is_consistent() -> None:
    for entry in MEDICATIONS:
        where = entry["slug"]
        assert entry["name"].strip(), where
        assert entry["ingredients"], where
        assert all(i == i.lower().strip() for i in entry["ingredients"]), where
        assert all(c == c.lower().strip() for c in entry["classes"]), where
        assert set(entry["routes"]) <= set(ROUTES), where
        assert entry["forms"], where
        assert entry["strengths"], where
        assert entry["controlled"] in {"", "II", "III", "IV", "V"}, where
        assert entry["rxnorm"] == "" or entry["rxnorm"].isdigit(), where


def test_every_catalog_class_has_a_vocabulary_entry_and_every_entry_is_used() -> None:
    used = {c for m in MEDICATIONS for c in m["classes"]}
    assert used == set(CLASSES)
    assert all(entry["label"] for entry in CLASSES.values())
    aliases = load_class_aliases()
    assert "sulfa" in aliases["sulfonamides"]
    assert "penicillin" in aliases["penicillins"]


def test_no_class_alias_is_an_ingredient_name() -> None:
    ingredients = {i for m in MEDICATIONS for i in m["ingredients"]}
    for klass, entry in CLASSES.items():
        assert not set(entry["aliases"]) & ingredients, klass


@pytest.mark.parametrize(
    ("slug", "rxcui"),
    [
        ("metformin", "6809"),
        ("lisinopril", "29046"),
        ("atorvastatin", "83367"),
        ("warfarin", "11289"),
        ("amoxicillin", "723"),
        ("ibuprofen", "5640"),
        ("acetaminophen", "161"),
        ("simvastatin", "36567"),
        ("sertraline", "36437"),
        ("omeprazole", "7646"),
        ("levothyroxine", "10582"),
        ("amlodipine", "17767"),
        ("metoprolol", "6918"),
        ("albuterol", "435"),
        ("prednisone", "8640"),
        ("gabapentin", "25480"),
        ("hydrochlorothiazide", "5487"),
        ("losartan", "52175"),
        ("furosemide", "4603"),
        ("clopidogrel", "32968"),
        ("fluoxetine", "4493"),
        ("tramadol", "10689"),
        ("aspirin", "1191"),
        ("ciprofloxacin", "2551"),
        ("azithromycin", "18631"),
        ("doxycycline", "3640"),
    ],
)
def test_known_ingredient_rxcuis(slug: str, rxcui: str) -> None:
    assert BY_SLUG[slug]["rxnorm"] == rxcui


def test_rxcuis_are_not_shared_between_entries() -> None:
    codes = [m["rxnorm"] for m in MEDICATIONS if m["rxnorm"]]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("slug", "schedule"),
    [
        ("oxycodone", "II"),
        ("hydrocodone-acetaminophen", "II"),
        ("amphetamine-dextroamphetamine", "II"),
        ("buprenorphine-naloxone", "III"),
        ("testosterone", "III"),
        ("alprazolam", "IV"),
        ("tramadol", "IV"),
        ("zolpidem", "IV"),
        ("pregabalin", "V"),
        ("gabapentin", ""),
        ("amoxicillin", ""),
    ],
)
def test_controlled_schedules(slug: str, schedule: str) -> None:
    assert BY_SLUG[slug]["controlled"] == schedule


def test_combination_products_list_every_ingredient() -> None:
    assert BY_SLUG["amoxicillin-clavulanate"]["ingredients"] == ["amoxicillin", "clavulanate"]
    assert set(BY_SLUG["hydrocodone-acetaminophen"]["ingredients"]) == {
        "hydrocodone",
        "acetaminophen",
    }
    assert set(BY_SLUG["sulfamethoxazole-trimethoprim"]["ingredients"]) == {
        "sulfamethoxazole",
        "trimethoprim",
    }


def test_medication_ids_are_uuid5_of_the_slug_in_a_fixed_namespace() -> None:
    assert uuid.UUID("a2568529-dd9b-5b80-bc2e-22172093bced") == MEDICATION_NAMESPACE
    assert medication_id("amoxicillin") == uuid.uuid5(MEDICATION_NAMESPACE, "amoxicillin")
    assert medication_id("amoxicillin") == medication_id("amoxicillin") != medication_id("warfarin")


# ------------------------------------------------------------------ the interaction rules


def test_rules_are_many_valid_and_resolve_to_catalog_terms() -> None:
    assert len(RULES) >= 120
    terms = catalog_terms(MEDICATIONS)
    pairs = set()
    for rule in RULES:
        assert rule["a"] in terms, rule
        assert rule["b"] in terms, rule
        assert rule["a"] != rule["b"], rule
        assert rule["severity"] in SEVERITIES, rule
        assert rule["effect"].strip(), rule
        assert "\n" not in rule["effect"], rule
        assert len(rule["effect"]) <= 300, rule
        assert rule["source"].startswith(
            ("ONC high-priority DDI list", "FDA prescribing information")
        ), rule
        pairs.add(tuple(sorted((rule["a"], rule["b"]))))
    assert len(pairs) == len(RULES), "a pair appears twice"
    assert len(read_rules(terms=terms)) == len(RULES)  # the loader's own validation passes


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("amphetamine-dextroamphetamine", "phenelzine"),  # amphetamine derivatives - MAOIs
        ("pseudoephedrine", "tranylcypromine"),
        ("atazanavir", "omeprazole"),  # atazanavir - PPIs
        ("febuxostat", "azathioprine"),  # febuxostat - azathioprine/mercaptopurine
        ("febuxostat", "mercaptopurine"),
        ("sertraline", "phenelzine"),  # SSRIs - MAOIs
        ("fluoxetine", "isocarboxazid"),
        ("irinotecan", "clarithromycin"),  # irinotecan - strong CYP3A4 inhibitors
        ("meperidine", "phenelzine"),  # narcotic analgesics - MAOIs
        ("tramadol", "tranylcypromine"),
        ("amitriptyline", "phenelzine"),  # tricyclics - MAOIs
        ("ziprasidone", "azithromycin"),  # high-risk QT - QT-prolonging
        ("pimozide", "ondansetron"),
        ("thioridazine", "levofloxacin"),
        ("ramelteon", "fluvoxamine"),  # ramelteon - fluvoxamine
        ("ritonavir", "rifampin"),  # strong CYP3A4 inducers - protease inhibitors
        ("atazanavir", "carbamazepine"),
        ("simvastatin", "clarithromycin"),  # statins - CYP3A4 inhibitors / protease inhibitors
        ("lovastatin", "itraconazole"),
        ("simvastatin", "darunavir"),
        ("ergotamine-caffeine", "clarithromycin"),  # ergots - CYP3A4 inhibitors / PIs
        ("dihydroergotamine", "ritonavir"),
        ("tizanidine", "ciprofloxacin"),  # tizanidine - CYP1A2 inhibitors
        ("tizanidine", "fluvoxamine"),
        ("tranylcypromine", "procarbazine"),  # tranylcypromine - procarbazine
        ("sumatriptan", "phenelzine"),  # triptans - MAOIs
    ],
)
def test_onc_high_priority_pairs_are_present(x: str, y: str) -> None:
    found = INDEX.between(catalog_drug(x), catalog_drug(y))
    onc = [r for r in found if r.source.startswith(ONC)]
    assert onc, f"no ONC rule for {x} + {y}"
    assert all(r.severity in {"contraindicated", "major"} for r in onc)


@pytest.mark.parametrize(
    ("x", "y", "severity"),
    [
        ("warfarin", "ibuprofen", "major"),
        ("warfarin", "fluconazole", "major"),
        ("warfarin", "metronidazole", "major"),
        ("warfarin", "amiodarone", "major"),
        ("warfarin", "sulfamethoxazole-trimethoprim", "major"),
        ("warfarin", "aspirin", "major"),
        ("oxycodone", "alprazolam", "major"),
        ("lisinopril", "losartan", "major"),
        ("lisinopril", "spironolactone", "moderate"),
        ("spironolactone", "potassium-chloride", "major"),
        ("triamterene-hydrochlorothiazide", "potassium-chloride", "contraindicated"),
        ("lithium", "hydrochlorothiazide", "major"),
        ("lithium", "naproxen", "moderate"),
        ("sildenafil", "isosorbide-mononitrate", "contraindicated"),
        ("tadalafil", "nitroglycerin", "contraindicated"),
        ("tramadol", "sertraline", "major"),
        ("sumatriptan", "sertraline", "moderate"),
        ("linezolid", "escitalopram", "major"),
        ("digoxin", "amiodarone", "major"),
        ("digoxin", "verapamil", "major"),
        ("simvastatin", "amiodarone", "major"),
        ("citalopram", "ondansetron", "moderate"),
        ("sildenafil", "ritonavir", "major"),
        ("allopurinol", "azathioprine", "major"),
        ("methotrexate", "sulfamethoxazole-trimethoprim", "major"),
        ("methotrexate", "naproxen", "major"),
        ("clopidogrel", "omeprazole", "major"),
        ("colchicine", "clarithromycin", "major"),
        ("theophylline", "ciprofloxacin", "major"),
        ("ethinyl-estradiol-levonorgestrel", "carbamazepine", "major"),
        ("ethinyl-estradiol-norgestimate", "rifampin", "major"),
        ("warfarin", "rifampin", "major"),
        ("levothyroxine", "calcium-carbonate", "moderate"),
        ("ciprofloxacin", "aluminum-magnesium-hydroxide", "moderate"),
        ("nirmatrelvir-ritonavir", "simvastatin", "contraindicated"),
        ("amiodarone", "sofosbuvir-velpatasvir", "major"),
    ],
)
def test_well_known_interactions_are_present(x: str, y: str, severity: str) -> None:
    rule = strongest(x, y)
    assert rule is not None, f"no rule for {x} + {y}"
    assert rule.severity == severity


def test_nitrates_pde5_and_methotrexate_trimethoprim_are_explicit_rules() -> None:
    # stored as written in the file; the loader orders each pair (a < b)
    pairs = {frozenset((r["a"], r["b"])): r for r in RULES}

    def rule(a: str, b: str) -> dict[str, Any]:
        return pairs[frozenset((a, b))]

    assert rule("class:nitrates", "class:pde5 inhibitors")["severity"] == "contraindicated"
    assert rule("methotrexate", "trimethoprim")["severity"] == "major"
    assert rule("simvastatin", "class:strong cyp3a4 inhibitors")["source"].startswith(ONC)
    assert rule("tizanidine", "class:strong cyp1a2 inhibitors")["source"].startswith(ONC)


def test_common_safe_pairs_have_no_rule() -> None:
    for x, y in [
        ("lisinopril", "metformin"),
        ("atorvastatin", "levothyroxine"),
        ("amoxicillin", "acetaminophen"),
    ]:
        assert strongest(x, y) is None, (x, y)


def test_the_checker_runs_on_the_shipped_data() -> None:
    result = checks.check(
        new=[catalog_drug("amoxicillin"), catalog_drug("ibuprofen"), catalog_drug("minoxidil")],
        active=[catalog_drug("warfarin", new=False)],
        allergies=[checks.Allergy("Penicillin", "hives", "moderate")],
        rules=INDEX,
        class_aliases=load_class_aliases(),
    )
    assert [f.id for f in result.findings] == [
        "allergy:penicillins:penicillin",
        "interaction:ibuprofen|warfarin",
    ]
    assert result.no_data == ("Minoxidil",)


# ------------------------------------------------------------------ validation of bad files


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in ("medications.json", "interactions.json", "classes.json"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "interactions.json",
            lambda d: d["interactions"][0].update(severity="severe"),
            "unknown severity",
        ),
        (
            "interactions.json",
            lambda d: d["interactions"][0].update(b="unobtainium"),
            "not in the catalog",
        ),
        (
            "interactions.json",
            lambda d: d["interactions"].append(dict(d["interactions"][0])),
            "appears twice",
        ),
        (
            "medications.json",
            lambda d: d["medications"].append(dict(d["medications"][0])),
            "duplicate slug",
        ),
        (
            "medications.json",
            lambda d: d["medications"][0].update(classes=["made-up class"]),
            "classes not in classes.json",
        ),
        (
            "medications.json",
            lambda d: d["medications"][0].update(routes=["telepathic"]),
            "unknown routes",
        ),
    ],
)
def test_a_bad_data_file_is_refused_before_anything_is_written(
    data_copy: Path, file: str, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    _edit(data_copy / file, change)
    with pytest.raises(ValueError, match=message):
        # model classes are not touched before validation passes
        load_catalog(object, object, data_dir=data_copy)


# ------------------------------------------------------------------ loading into the database


@pytest.mark.django_db
def test_load_catalog_counts_match_the_json_and_it_is_idempotent() -> None:
    assert load_catalog(Medication, Interaction) == (len(MEDICATIONS), len(RULES))
    assert load_catalog(Medication, Interaction) == (len(MEDICATIONS), len(RULES))
    assert Medication.objects.filter(slug__in=BY_SLUG).count() == len(MEDICATIONS)
    assert Interaction.objects.filter(dataset="builtin").count() == len(RULES)
    amoxicillin = Medication.objects.get(slug="amoxicillin")
    assert amoxicillin.id == medication_id("amoxicillin")
    assert amoxicillin.rxnorm == "723"
    assert "amoxil" in amoxicillin.search
    assert amoxicillin.search == amoxicillin.search.lower()
    assert amoxicillin.source.startswith("RxNorm")
    assert all(a < b for a, b in Interaction.objects.values_list("a", "b"))


@pytest.mark.django_db
def test_load_medications_command(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_medications")
    assert f"Loaded {len(MEDICATIONS)} medications and {len(RULES)}" in capsys.readouterr().out


@pytest.mark.django_db
def test_import_interactions_adds_replaces_and_refuses_bad_rows() -> None:
    builtin = Interaction.objects.filter(dataset="builtin").count()
    rows = [
        {"a": "warfarin", "b": "Class:NSAIDs", "severity": "Major", "effect": "Bleeding."},
        {
            "a": "zolpidem",
            "b": "alprazolam",
            "severity": "moderate",
            "effect": "Sedation.",
            "source": "Own review",
        },
    ]
    assert import_interactions(Interaction, rows, dataset="formulary", source="Formulary 2025") == 2
    stored = {(r.a, r.b): r for r in Interaction.objects.filter(dataset="formulary")}
    assert set(stored) == {("class:nsaids", "warfarin"), ("alprazolam", "zolpidem")}
    assert stored[("class:nsaids", "warfarin")].source == "Formulary 2025"
    assert stored[("alprazolam", "zolpidem")].source == "Own review"

    # a re-import replaces the dataset
    assert import_interactions(Interaction, rows[:1], dataset="formulary", source="v2") == 1
    assert Interaction.objects.filter(dataset="formulary").count() == 1

    # a bad row: nothing written, the old rows stay
    bad = [rows[1], {"a": "x", "b": "y", "severity": "severe", "effect": "?"}]
    with pytest.raises(ValueError, match="row 2: unknown severity"):
        import_interactions(Interaction, bad, dataset="formulary", source="v3")
    assert Interaction.objects.filter(dataset="formulary").count() == 1
    with pytest.raises(ValueError, match="built-in"):
        import_interactions(Interaction, rows, dataset="builtin", source="x")
    with pytest.raises(ValueError, match="effect"):
        import_interactions(
            Interaction,
            [{"a": "x", "b": "y", "severity": "minor", "effect": " "}],
            dataset="d",
            source="s",
        )
    assert Interaction.objects.filter(dataset="builtin").count() == builtin
    assert not Interaction.objects.filter(dataset="d").exists()


@pytest.mark.django_db
def test_import_interactions_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "rules.csv"
    good.write_text(
        "a,b,severity,effect\nwarfarin,class:nsaids,major,Bleeding.\n"
        "warfarin,unobtainium,minor,Made up.\n",
        encoding="utf-8",
    )
    call_command("import_interactions", str(good), dataset="local", source="Local review")
    out = capsys.readouterr().out
    assert "'local' now has 2 interaction rules" in out
    assert "1 term(s) match no catalog ingredient or class" in out
    assert "unobtainium" in out
    assert Interaction.objects.get(dataset="local", a="class:nsaids").source == "Local review"

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "a,b,severity,effect\nwarfarin,aspirin,catastrophic,Bleeding.\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="row 1: unknown severity"):
        call_command("import_interactions", str(bad), dataset="local", source="x")
    missing = tmp_path / "missing.csv"
    missing.write_text("a,b,effect\nwarfarin,aspirin,Bleeding.\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_interactions", str(missing), dataset="local", source="x")
    assert Interaction.objects.filter(dataset="local").count() == 2
