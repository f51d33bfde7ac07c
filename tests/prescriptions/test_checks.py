"""The prescribing safety checker (prescriptions/checks.py): allergies, duplicate therapy,
interactions and the explicit "no data" list. Plain unit tests over hand-made drugs and
rules (no database); tests/prescriptions/test_catalog_data.py checks the shipped data."""

from __future__ import annotations

import pytest

from prescriptions.checks import (
    ALLERGY_SOURCE,
    DUPLICATE_SOURCE,
    SEVERITY_RANK,
    Allergy,
    CheckResult,
    Drug,
    Finding,
    Rule,
    RuleIndex,
    check,
)

ALIASES: dict[str, list[str]] = {
    "penicillins": ["penicillin", "pcn"],
    "beta-lactam antibiotics": ["beta-lactams"],
    "sulfonamides": ["sulfa", "sulfa drugs"],
    "sulfonamide antibiotics": ["sulfa antibiotics"],
    "nsaids": ["nsaid", "anti-inflammatories"],
    "ace inhibitors": ["ace inhibitor"],
    "cephalosporins": [],
    "anticoagulants": ["blood thinners"],
}

RULES = [
    Rule(
        "class:nsaids", "warfarin", "major", "Raises the risk of serious bleeding.", "FDA: warfarin"
    ),
    Rule("ciprofloxacin", "tizanidine", "contraindicated", "Tizanidine levels soar.", "ONC"),
    Rule(
        "lisinopril", "class:nsaids", "moderate", "Less blood-pressure control.", "FDA: lisinopril"
    ),
]


def drug(
    name: str,
    ingredients: tuple[str, ...] = (),
    classes: tuple[str, ...] = (),
    *,
    new: bool = True,
    in_catalog: bool = True,
) -> Drug:
    return Drug(
        name=name,
        ingredients=frozenset(ingredients or ((name.lower(),) if in_catalog else ())),
        classes=frozenset(classes),
        in_catalog=in_catalog,
        new=new,
    )


AMOXICILLIN = drug("Amoxicillin", ("amoxicillin",), ("penicillins", "beta-lactam antibiotics"))
AMPICILLIN = drug("Ampicillin", ("ampicillin",), ("penicillins", "beta-lactam antibiotics"))
CEPHALEXIN = drug("Cephalexin", ("cephalexin",), ("cephalosporins", "beta-lactam antibiotics"))
BACTRIM = drug(
    "Sulfamethoxazole-trimethoprim",
    ("sulfamethoxazole", "trimethoprim"),
    ("sulfonamide antibiotics", "sulfonamides"),
)
IBUPROFEN = drug("Ibuprofen", ("ibuprofen",), ("nsaids",))
NAPROXEN = drug("Naproxen", ("naproxen",), ("nsaids",))
WARFARIN = drug("Warfarin", ("warfarin",), ("anticoagulants",))
LISINOPRIL = drug("Lisinopril", ("lisinopril",), ("ace inhibitors",))
CIPROFLOXACIN = drug("Ciprofloxacin", ("ciprofloxacin",), ("fluoroquinolones",))
TIZANIDINE = drug("Tizanidine", ("tizanidine",), ("skeletal muscle relaxants",))
MINOXIDIL = drug("Minoxidil", ("minoxidil",), ("vasodilators",))


def active(d: Drug, name: str | None = None) -> Drug:
    return Drug(name or d.name, d.ingredients, d.classes, d.in_catalog, new=False)


def run(
    new: list[Drug],
    current: list[Drug] | None = None,
    allergies: list[Allergy] | None = None,
    rules: list[Rule] | None = None,
) -> CheckResult:
    return check(
        new=new,
        active=current or [],
        allergies=allergies or [],
        rules=RuleIndex(RULES if rules is None else rules),
        class_aliases=ALIASES,
    )


def only(result: CheckResult, kind: str) -> list[Finding]:
    return [f for f in result.findings if f.kind == kind]


# ------------------------------------------------------------------ allergies


def test_allergy_to_an_ingredient_flags_the_new_drug() -> None:
    result = run(
        [drug("Augmentin", ("amoxicillin", "clavulanate"), ("penicillins",))],
        allergies=[Allergy("Amoxicillin", "rash", "moderate")],
    )
    [finding] = only(result, "allergy")
    assert finding.id == "allergy:amoxicillin:amoxicillin"
    assert finding.severity == "major"
    assert finding.medications == ("Augmentin",)
    assert (
        finding.message == "Recorded allergy to Amoxicillin (rash): Augmentin contains amoxicillin."
    )
    assert finding.source == ALLERGY_SOURCE


def test_allergy_to_a_class_flags_amoxicillin_for_penicillin() -> None:
    result = run([AMOXICILLIN], allergies=[Allergy("Penicillin", "hives", "moderate")])
    [finding] = only(result, "allergy")
    assert finding.id == "allergy:penicillins:penicillin"
    assert finding.severity == "major"
    assert finding.requires_override is True
    assert finding.message == "Recorded allergy to Penicillin (hives): Amoxicillin is a penicillin."


@pytest.mark.parametrize(
    "substance", ["sulfa", "Sulfa drugs", "SULFA ", "allergic to sulfa", "Sulfonamides"]
)
def test_allergy_by_alias_sulfa_flags_sulfamethoxazole_trimethoprim(substance: str) -> None:
    result = run([BACTRIM], allergies=[Allergy(substance)])
    [finding] = only(result, "allergy")
    assert finding.id.startswith("allergy:sulfonamide")
    assert finding.medications == ("Sulfamethoxazole-trimethoprim",)
    assert "is a sulfonamide" in finding.message


@pytest.mark.parametrize(
    "substance",
    ["Penicillins", "penicillin allergy", "PCN", "Penicillin (PCN)", "penicillin antibiotics"],
)
def test_allergy_text_is_normalised(substance: str) -> None:
    assert [
        f.id.split(":")[1]
        for f in only(run([AMOXICILLIN], allergies=[Allergy(substance)]), "allergy")
    ] == ["penicillins"]


@pytest.mark.parametrize(
    ("reaction", "severity", "expected"),
    [
        ("anaphylaxis", "", "contraindicated"),
        ("Anaphylactic shock", "moderate", "contraindicated"),
        ("angioedema of the lips", "", "contraindicated"),
        ("Stevens-Johnson syndrome", "", "contraindicated"),
        ("rash", "Severe", "contraindicated"),
        ("hives", "moderate", "major"),
        ("", "", "major"),
        ("nausea", "mild", "major"),
    ],
)
def test_allergy_severity(reaction: str, severity: str, expected: str) -> None:
    [finding] = run([AMOXICILLIN], allergies=[Allergy("penicillin", reaction, severity)]).findings
    assert finding.severity == expected
    assert finding.requires_override is True


def test_no_allergy_finding_for_an_unrelated_drug() -> None:
    result = run(
        [LISINOPRIL, CEPHALEXIN],
        allergies=[Allergy("Penicillin", "hives"), Allergy("codeine"), Allergy("latex")],
    )
    assert only(result, "allergy") == []


@pytest.mark.parametrize("substance", ["", "   ", "antibiotics", "drug allergy", "to"])
def test_an_allergy_that_names_nothing_matches_nothing(substance: str) -> None:
    assert (
        only(run([AMOXICILLIN, BACTRIM, IBUPROFEN], allergies=[Allergy(substance)]), "allergy")
        == []
    )


def test_only_new_drugs_are_checked_against_allergies() -> None:
    result = run([LISINOPRIL], [active(AMOXICILLIN)], allergies=[Allergy("penicillin")])
    assert only(result, "allergy") == []


def test_two_new_drugs_in_the_allergy_class_give_one_finding() -> None:
    result = run([AMOXICILLIN, AMPICILLIN], allergies=[Allergy("Penicillin")])
    [finding] = only(result, "allergy")
    assert finding.medications == ("Amoxicillin", "Ampicillin")
    assert (
        finding.message
        == "Recorded allergy to Penicillin: Amoxicillin and Ampicillin are penicillins."
    )


def test_acronym_classes_read_naturally() -> None:
    [finding] = run([IBUPROFEN], allergies=[Allergy("NSAIDs")]).findings
    assert finding.id == "allergy:nsaids:nsaids"
    assert finding.message == "Recorded allergy to NSAIDs: Ibuprofen is an NSAID."


def test_a_free_text_drug_matches_an_allergy_only_by_its_name() -> None:
    tonic = drug("Grandma's Tonic", in_catalog=False)
    result = run([tonic], allergies=[Allergy("grandmas tonic", "vomiting"), Allergy("penicillin")])
    [finding] = result.findings
    assert finding.id == "allergy:grandmas tonic:grandmas tonic"
    assert finding.medications == ("Grandma's Tonic",)


# ------------------------------------------------------------------ duplicate therapy


def test_duplicate_against_an_active_medication() -> None:
    result = run([IBUPROFEN], [active(IBUPROFEN, "Advil 200 mg")], rules=[])
    [finding] = result.findings
    assert finding.id == "duplicate:ibuprofen"
    assert finding.kind == "duplicate"
    assert finding.severity == "major"
    assert finding.medications == ("Ibuprofen", "Advil 200 mg")
    assert (
        finding.message
        == "Ibuprofen is already active (Advil 200 mg) \u2014 same ingredient ibuprofen."
    )
    assert finding.source == DUPLICATE_SOURCE


def test_duplicate_within_the_new_drugs() -> None:
    norco = drug("Hydrocodone-acetaminophen", ("hydrocodone", "acetaminophen"), ("opioids",))
    tylenol = drug("Acetaminophen", ("acetaminophen",))
    [finding] = run([norco, tylenol], rules=[]).findings
    assert finding.id == "duplicate:acetaminophen"
    assert finding.medications == ("Hydrocodone-acetaminophen", "Acetaminophen")
    assert "are both being prescribed" in finding.message


def test_no_duplicate_between_two_active_medications() -> None:
    result = run([LISINOPRIL], [active(IBUPROFEN), active(IBUPROFEN, "Motrin")], rules=[])
    assert result.findings == ()


# ------------------------------------------------------------------ interactions


def test_class_rule_between_two_new_drugs() -> None:
    result = run([WARFARIN, IBUPROFEN])
    [finding] = result.findings
    assert finding.id == "interaction:ibuprofen|warfarin"
    assert finding.kind == "interaction"
    assert finding.severity == "major"
    assert finding.medications == ("Warfarin", "Ibuprofen")
    assert finding.message == "Raises the risk of serious bleeding."
    assert finding.source == "FDA: warfarin"


def test_interaction_between_a_new_and_an_active_drug() -> None:
    [finding] = run([CIPROFLOXACIN], [active(TIZANIDINE)]).findings
    assert finding.id == "interaction:ciprofloxacin|tizanidine"
    assert finding.severity == "contraindicated"
    assert finding.medications == ("Ciprofloxacin", "Tizanidine")


def test_active_drugs_are_never_checked_against_each_other() -> None:
    result = run(
        [MINOXIDIL],
        [active(WARFARIN), active(IBUPROFEN), active(TIZANIDINE), active(CIPROFLOXACIN)],
    )
    assert only(result, "interaction") == []


def test_the_most_severe_matching_rule_wins_and_ties_keep_the_first() -> None:
    rules = [
        Rule("ibuprofen", "warfarin", "moderate", "Moderate effect.", "first moderate"),
        Rule("class:anticoagulants", "class:nsaids", "major", "Major effect.", "first major"),
        Rule("class:nsaids", "warfarin", "major", "Another major effect.", "second major"),
        Rule("ibuprofen", "class:anticoagulants", "minor", "Minor effect.", "minor"),
    ]
    [finding] = run([IBUPROFEN], [active(WARFARIN)], rules=rules).findings
    assert (finding.severity, finding.source, finding.message) == (
        "major",
        "first major",
        "Major effect.",
    )


def test_the_same_pair_twice_gives_one_finding_with_the_most_severe_rule() -> None:
    rules = [Rule("class:nsaids", "warfarin", "major", "Bleeding.", "x")]
    result = run([WARFARIN, IBUPROFEN], [active(WARFARIN)], rules=rules)
    assert [f.id for f in result.findings] == [
        "duplicate:warfarin",
        "interaction:ibuprofen|warfarin",
    ]


@pytest.mark.parametrize(
    ("severity", "override"),
    [("contraindicated", True), ("major", True), ("moderate", False), ("minor", False)],
)
def test_requires_override(severity: str, override: bool) -> None:
    finding = Finding("interaction:a|b", "interaction", severity, ("A", "B"), "m", "s")
    assert finding.requires_override is override


def test_rule_index_matches_either_direction_and_covers_terms() -> None:
    index = RuleIndex(RULES)
    assert [r.source for r in index.between(WARFARIN, IBUPROFEN)] == ["FDA: warfarin"]
    assert [r.source for r in index.between(IBUPROFEN, WARFARIN)] == ["FDA: warfarin"]
    assert index.between(WARFARIN, LISINOPRIL) == []
    assert [r.source for r in index.between(LISINOPRIL, NAPROXEN)] == ["FDA: lisinopril"]
    assert index.covers(NAPROXEN)  # by class
    assert index.covers(TIZANIDINE)  # by ingredient
    assert not index.covers(MINOXIDIL)
    assert not index.covers(drug("warfarin", in_catalog=False))


# ------------------------------------------------------------------ no data


def test_no_data_names_free_text_and_uncovered_drugs_in_input_order() -> None:
    mouthwash = drug("Compounded Magic Mouthwash", in_catalog=False)
    herbal = drug("Herbal tea", in_catalog=False, new=False)
    result = run([mouthwash, WARFARIN, MINOXIDIL, mouthwash], [herbal, active(IBUPROFEN)])
    assert result.no_data == ("Compounded Magic Mouthwash", "Minoxidil", "Herbal tea")


def test_a_free_text_drug_matches_no_rule_even_with_a_known_name() -> None:
    typed = drug("warfarin", in_catalog=False)
    result = run([typed, IBUPROFEN])
    assert only(result, "interaction") == []
    assert only(result, "duplicate") == []
    assert result.no_data == ("warfarin",)


def test_nothing_to_report() -> None:
    result = run([LISINOPRIL], [active(WARFARIN)], allergies=[Allergy("codeine")])
    assert result == CheckResult(findings=(), no_data=())


# ------------------------------------------------------------------ ids and order


def test_findings_are_ordered_by_severity_kind_and_id_with_stable_ids() -> None:
    new = [CIPROFLOXACIN, IBUPROFEN, AMOXICILLIN, LISINOPRIL]
    current = [active(TIZANIDINE), active(WARFARIN), active(NAPROXEN, "Aleve")]
    allergies = [Allergy("penicillin", "anaphylaxis"), Allergy("NSAID", "asthma")]
    result = run(new, current, allergies)
    keys = [(SEVERITY_RANK[f.severity], f.kind, f.id) for f in result.findings]
    assert keys == sorted(keys)
    ids = [f.id for f in result.findings]
    assert len(ids) == len(set(ids))
    assert ids == [
        "allergy:penicillins:penicillin",
        "interaction:ciprofloxacin|tizanidine",
        "allergy:nsaids:nsaid",
        "interaction:ibuprofen|warfarin",
        "interaction:aleve|lisinopril",
        "interaction:ibuprofen|lisinopril",
    ]
    reversed_result = run(new[::-1], current[::-1], allergies[::-1])
    assert sorted(f.id for f in reversed_result.findings) == sorted(ids)
    assert run(new, current, allergies) == result
