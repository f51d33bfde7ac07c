"""The prescribing safety check (docs/api-prescriptions.md, "Safety check"): the medicines
being prescribed are checked against the patient's recorded allergies, against each other and
the patient's active medicines for the same ingredient, and against the interaction rules.

Pure functions over plain values (no ORM): the caller resolves medicines to catalog entries,
reads the patient's record and the rules. Anything the rules cannot cover (a free-text
medicine, or a catalog medicine no rule mentions) is named in `no_data`, so "no findings"
never silently means "no data"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SEVERITY_RANK = {"contraindicated": 0, "major": 1, "moderate": 2, "minor": 3}
OVERRIDE_SEVERITIES = frozenset({"contraindicated", "major"})
CLASS_PREFIX = "class:"

ALLERGY_SOURCE = "Patient's recorded allergies"
DUPLICATE_SOURCE = "Duplicate-therapy rule (same ingredient)"


@dataclass(frozen=True, slots=True)
class Drug:
    name: str  # display name ("Warfarin" or the free text)
    ingredients: frozenset[str]  # lower-case; empty for a free-text drug not in the catalog
    classes: frozenset[str]  # lower-case
    in_catalog: bool = True
    new: bool = True  # being prescribed now (False: an active medication)


@dataclass(frozen=True, slots=True)
class Allergy:
    substance: str  # as the patient recorded it ("Penicillin", "sulfa drugs")
    reaction: str = ""
    severity: str = ""  # "mild" | "moderate" | "severe" | "" (free text from the profile)


@dataclass(frozen=True, slots=True)
class Rule:
    a: str  # "warfarin" or "class:nsaids"
    b: str
    severity: str
    effect: str
    source: str


@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # stable: "allergy:<term>:<substance>", "duplicate:<ingredient>", "interaction:<x>|<y>"
    kind: str  # "allergy" | "duplicate" | "interaction"
    severity: str
    medications: tuple[str, ...]  # display names involved, new first
    message: str
    source: str

    @property
    def requires_override(self) -> bool:
        return self.severity in OVERRIDE_SEVERITIES


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: tuple[Finding, ...]  # by severity, then kind, then id; ids unique
    no_data: tuple[str, ...]  # drugs the rules cannot cover, in input order


def _rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, len(SEVERITY_RANK))


def drug_terms(drug: Drug) -> frozenset[str]:
    """The rule terms a drug answers to: its ingredients and "class:<class>"."""
    if not drug.in_catalog:
        return frozenset()
    return frozenset(i.strip().lower() for i in drug.ingredients) | frozenset(
        CLASS_PREFIX + c.strip().lower() for c in drug.classes
    )


class RuleIndex:
    """The interaction rules, indexed by term; built once per check."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules: list[Rule] = []
        self._by_term: dict[str, list[int]] = {}
        for rule in rules:
            position = len(self._rules)
            self._rules.append(rule)
            for term in {rule.a.strip().lower(), rule.b.strip().lower()}:
                self._by_term.setdefault(term, []).append(position)

    def __len__(self) -> int:
        return len(self._rules)

    def covers(self, drug: Drug) -> bool:
        """Whether any of the drug's ingredients or classes appears in any rule."""
        return any(term in self._by_term for term in drug_terms(drug))

    def between(self, x: Drug, y: Drug) -> list[Rule]:
        """The rules with one term matching x and the other matching y, in rule order."""
        tx, ty = drug_terms(x), drug_terms(y)
        if not tx or not ty:
            return []
        positions: set[int] = set()
        for term in tx:
            for position in self._by_term.get(term, ()):
                rule = self._rules[position]
                a, b = rule.a.strip().lower(), rule.b.strip().lower()
                if (a in tx and b in ty) or (a in ty and b in tx):
                    positions.add(position)
        return [self._rules[p] for p in sorted(positions)]


# ------------------------------------------------------------------ allergy text matching

# Words patients add around the substance ("allergic to penicillin", "sulfa drugs").
_FILLER = frozenset(
    {
        "allergy",
        "allergies",
        "allergic",
        "to",
        "intolerance",
        "intolerant",
        "sensitivity",
        "hypersensitivity",
        "reaction",
        "drug",
        "drugs",
        "medication",
        "medications",
        "medicine",
        "medicines",
        "class",
        "family",
        "antibiotic",
        "antibiotics",
    }
)
_SEGMENT_SPLIT = re.compile(r"[,;/()\[\]]")
_SEVERE_REACTION = re.compile(
    r"anaphyla|angio-?\s?edema|stevens[\s-]*johnson|\bsjs\b|toxic epidermal necrolysis|\bdress\b",
    re.IGNORECASE,
)


def _norm(text: str) -> str:
    lowered = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", lowered).split())


def _singular(text: str) -> str:
    words = []
    for word in text.split():
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def _forms(text: str) -> frozenset[str]:
    """The ways a catalog name may be written: as is and singular."""
    base = _norm(text)
    return frozenset(f for f in (base, _singular(base)) if f)


def _substance_forms(text: str) -> frozenset[str]:
    """The ways to read a recorded allergy: the whole text and each part of it (split on
    punctuation), each as is, without filler words, and singular."""
    parts = {_norm(text), *(_norm(p) for p in _SEGMENT_SPLIT.split(text))}
    forms: set[str] = set()
    for part in parts:
        stripped = " ".join(w for w in part.split() if w not in _FILLER)
        forms.update((part, stripped, _singular(part), _singular(stripped)))
    forms.discard("")
    return frozenset(forms)


_ACRONYMS = {
    "ace": "ACE",
    "arb": "ARB",
    "cgrp": "CGRP",
    "cns": "CNS",
    "cox-2": "COX-2",
    "cyp1a2": "CYP1A2",
    "cyp2d6": "CYP2D6",
    "cyp3a4": "CYP3A4",
    "dmard": "DMARD",
    "dpp-4": "DPP-4",
    "gip": "GIP",
    "glp-1": "GLP-1",
    "h2": "H2",
    "hcn": "HCN",
    "hiv": "HIV",
    "il-4": "IL-4",
    "jak": "JAK",
    "mao-b": "MAO-B",
    "maoi": "MAOI",
    "mtor": "mTOR",
    "nmda": "NMDA",
    "nnrti": "NNRTI",
    "nrti": "NRTI",
    "nsaid": "NSAID",
    "p2y12": "P2Y12",
    "pcsk9": "PCSK9",
    "pde4": "PDE4",
    "pde5": "PDE5",
    "qt-prolonging": "QT-prolonging",
    "rank": "RANK",
    "sars-cov-2": "SARS-CoV-2",
    "serm": "SERM",
    "sglt2": "SGLT2",
    "snri": "SNRI",
    "ssri": "SSRI",
    "tnf": "TNF",
    "5-ht3": "5-HT3",
}


def _class_phrase(name: str, *, plural: bool) -> str:
    """ "penicillins" -> "a penicillin" / "penicillins"; "nsaids" -> "an NSAID" / "NSAIDs"."""
    words = name.split()
    last = _singular(words[-1])
    singular_words = [*words[:-1], last]
    shown = [_ACRONYMS.get(w, w) for w in singular_words]
    if plural:
        shown[-1] = shown[-1] + ("s" if last != words[-1] else "")
        return " ".join(shown)
    phrase = " ".join(shown)
    first = shown[0]
    acronym_vowel_sound = first.isupper() and first[0] in "AEFHILMNORSX"
    vowel = first[0].lower() in "aeiou" and not first.lower().startswith(("uni", "uri", "use"))
    return ("an " if acronym_vowel_sound or (vowel and not first.isupper()) else "a ") + phrase


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _allergy_severity(allergy: Allergy) -> str:
    severe = allergy.severity.strip().lower() == "severe"
    return "contraindicated" if severe or _SEVERE_REACTION.search(allergy.reaction) else "major"


def _allergy_match(
    drug: Drug, forms: frozenset[str], class_forms: Mapping[str, frozenset[str]]
) -> tuple[str, str] | None:
    """(how, term) when the allergy matches the drug: ("ingredient", ing), ("class", class)
    or ("name", normalised name); ingredients first."""
    if drug.in_catalog:
        for ingredient in sorted(drug.ingredients):
            if _forms(ingredient) & forms:
                return "ingredient", ingredient
        for klass in sorted(drug.classes):
            if class_forms.get(klass, _forms(klass)) & forms:
                return "class", klass
    if _forms(drug.name) & forms:
        return "name", _norm(drug.name)
    return None


def _allergy_findings(
    new: Sequence[Drug], allergies: Sequence[Allergy], class_aliases: Mapping[str, Iterable[str]]
) -> list[Finding]:
    class_forms: dict[str, frozenset[str]] = {}
    for klass, aliases in class_aliases.items():
        known = set(_forms(klass))
        for alias in aliases:
            known |= _forms(alias)
        class_forms[klass] = frozenset(known)
    findings: list[Finding] = []
    for allergy in allergies:
        substance = _norm(allergy.substance)
        if not substance:
            continue
        written = _substance_forms(allergy.substance)
        matched: dict[tuple[str, str], list[str]] = {}
        for drug in new:
            match = _allergy_match(drug, written, class_forms)
            if match is not None:
                matched.setdefault(match, []).append(drug.name)
        reaction = allergy.reaction.strip()
        recorded = f"Recorded allergy to {allergy.substance.strip()}" + (
            f" ({reaction})" if reaction else ""
        )
        for (how, term), drug_names in matched.items():
            names = _unique(drug_names)
            many = len(names) > 1
            if how == "class":
                what = (
                    f"are {_class_phrase(term, plural=True)}"
                    if many
                    else f"is {_class_phrase(term, plural=False)}"
                )
            elif how == "ingredient" and not all(_norm(n) == term for n in names):
                what = ("contain " if many else "contains ") + term
            else:
                what = "match the recorded allergy" if many else "matches the recorded allergy"
            findings.append(
                Finding(
                    id=f"allergy:{term}:{substance}",
                    kind="allergy",
                    severity=_allergy_severity(allergy),
                    medications=names,
                    message=f"{recorded}: {_names(names)} {what}.",
                    source=ALLERGY_SOURCE,
                )
            )
    return findings


# ------------------------------------------------------------------ duplicates, interactions


def _duplicate_findings(new: Sequence[Drug], active: Sequence[Drug]) -> list[Finding]:
    holders: dict[str, tuple[list[str], list[str]]] = {}
    for drugs, side in ((new, 0), (active, 1)):
        for drug in drugs:
            if not drug.in_catalog:
                continue
            for ingredient in sorted({i.strip().lower() for i in drug.ingredients}):
                holders.setdefault(ingredient, ([], []))[side].append(drug.name)
    findings: list[Finding] = []
    for ingredient, (new_names, active_names) in holders.items():
        if not new_names or len(new_names) + len(active_names) < 2:
            continue
        fresh, current = _unique(new_names), _unique(active_names)
        if current:
            verb = "is" if len(fresh) == 1 else "are"
            message = (
                f"{_names(fresh)} {verb} already active ({_names(current)})"
                f" \u2014 same ingredient {ingredient}."
            )
        elif len(fresh) == 1:
            message = f"{fresh[0]} is listed more than once \u2014 same ingredient {ingredient}."
        else:
            both = "both" if len(fresh) == 2 else "all"
            message = (
                f"{_names(fresh)} are {both} being prescribed \u2014 same ingredient {ingredient}."
            )
        findings.append(
            Finding(
                id=f"duplicate:{ingredient}",
                kind="duplicate",
                severity="major",
                medications=_unique((*fresh, *current)),
                message=message,
                source=DUPLICATE_SOURCE,
            )
        )
    return findings


def _interaction_findings(
    new: Sequence[Drug], active: Sequence[Drug], rules: RuleIndex
) -> list[Finding]:
    pairs = [(x, y) for i, x in enumerate(new) for y in new[i + 1 :]]
    pairs += [(x, y) for x in new for y in active]
    findings: list[Finding] = []
    for x, y in pairs:
        matched = rules.between(x, y)
        if not matched:
            continue
        rule = min(matched, key=lambda r: _rank(r.severity))  # the first of the most severe
        names = sorted((x.name.strip().lower(), y.name.strip().lower()))
        findings.append(
            Finding(
                id="interaction:" + "|".join(names),
                kind="interaction",
                severity=rule.severity,
                medications=(x.name, y.name),
                message=rule.effect,
                source=rule.source,
            )
        )
    return findings


def check(
    *,
    new: Sequence[Drug],
    active: Sequence[Drug],
    allergies: Sequence[Allergy],
    rules: RuleIndex,
    class_aliases: Mapping[str, Iterable[str]],
) -> CheckResult:
    """Allergies (new drugs only), duplicate therapy (new against new and active) and
    interactions (new with new, new with active; never active with active)."""
    kept: dict[str, Finding] = {}
    for finding in (
        *_allergy_findings(new, allergies, class_aliases),
        *_duplicate_findings(new, active),
        *_interaction_findings(new, active, rules),
    ):
        earlier = kept.get(finding.id)
        if earlier is None or _rank(finding.severity) < _rank(earlier.severity):
            kept[finding.id] = finding
    findings = tuple(sorted(kept.values(), key=lambda f: (_rank(f.severity), f.kind, f.id)))
    no_data = _unique(
        drug.name for drug in (*new, *active) if not drug.in_catalog or not rules.covers(drug)
    )
    return CheckResult(findings=findings, no_data=no_data)
