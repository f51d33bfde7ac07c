"""A signed prescription as plain, immutable values: the one shape both the FHIR export and the
PDF are rendered from.

Keeping the renderers off the ORM means they can be tested without a database, cannot
lazily query (and so cannot leak or vary with) rows the caller did not mean to show, and will
render a prescription exactly as it was handed over, after the sealed items have been opened
by whoever is allowed to open them. Building one of these from the models is the service's
job, not this module's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DocItem:
    """One prescribed medicine, as the prescriber signed it."""

    name: str
    rxnorm: str  # RxNorm RxCUI, "" when unknown (free text, or a catalog entry without one)
    free_text: bool  # not in the catalog: the name is what the doctor typed
    strength: str
    form: str
    dose: str  # "1 capsule", "500 mg", "2 puffs": free text, parsed only when it is plain
    route: str  # a code from vocab.ROUTES
    frequency: str  # a code from vocab.FREQUENCIES
    duration_days: int
    quantity: int
    refills: int
    instructions: str
    substitution_allowed: bool

    @property
    def title(self) -> str:
        """'Amoxicillin 500 mg capsule': how the medicine reads on the PDF and in FHIR alike."""
        return " ".join(part for part in (self.name, self.strength, self.form) if part.strip())


@dataclass(frozen=True, slots=True)
class DocPerson:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class DocPatient(DocPerson):
    birth_date: date | None


@dataclass(frozen=True, slots=True)
class DocPrescriber:
    id: str
    name: str
    license_number: str
    center_name: str
    center_address: str
    center_phone: str


@dataclass(frozen=True, slots=True)
class PrescriptionDocument:
    """Times are timezone-aware (the renderers refuse naive ones rather than guess a zone);
    `verify_url` is absolute, since it is printed for a pharmacist and is the base the FHIR
    export names its resources under."""

    id: str
    status: str  # active | completed | cancelled | expired
    issued_at: datetime
    expires_at: datetime
    verification_code: str
    verify_url: str
    patient: DocPatient
    prescriber: DocPrescriber
    items: tuple[DocItem, ...]
    refill_of: str | None = None
