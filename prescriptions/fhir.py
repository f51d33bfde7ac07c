"""A prescription as a FHIR R4 Bundle, for pharmacies and other systems that read FHIR rather
than our JSON.

The output is checked against fhir.resources' R4B models before it leaves: fhir.resources 8
ships R5 at the top level plus R4B and STU3 subpackages, and no R4 one. R4B's MedicationRequest,
Patient, Practitioner, Binary and Bundle are R4's, and we emit nothing R4B added, so an R4B
parse is the closest check available. The models do not enforce required code bindings, so the
few codes we emit with required bindings are checked here as well."""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from prescriptions import vocab
from prescriptions.documents import DocItem, PrescriptionDocument

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
PRESCRIPTION_SYSTEM = "urn:careconnect:prescription"
LICENSE_SYSTEM = "urn:careconnect:license"
VERIFICATION_SYSTEM = "urn:careconnect:verification-code"

# Our states onto R4's MedicationRequest.status (required binding). R4 has no "expired": an
# expired prescription will see no further dispensing, before its course may have finished,
# which is what "stopped" means; statusReason says why.
STATUS: dict[str, str] = {
    "active": "active",
    "completed": "completed",
    "cancelled": "cancelled",
    "expired": "stopped",
}
R4_REQUEST_STATUSES = frozenset(
    (
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    )
)
R4_REQUEST_INTENTS = frozenset(
    (
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    )
)
R4_PERIOD_UNITS = frozenset({"s", "min", "h", "d", "wk", "mo", "a"})

# A dose we can state as a Quantity: a plain number and a one-word unit ("1 capsule",
# "500 mg", "2.5mL"). Anything else ("1-2 tablets", "1 puff each nostril") stays text only,
# since a wrong structured dose is worse than none.
_DOSE = re.compile(r"(\d+(?:\.\d+)?)\s*([^\W\d_]+)")
_UCUM_UNITS: dict[str, str] = {
    "mg": "mg",
    "g": "g",
    "mcg": "ug",
    "ug": "ug",
    "µg": "ug",
    "μg": "ug",
    "ml": "mL",
    "l": "L",
    "iu": "[iU]",
    "drop": "[drp]",
    "drops": "[drp]",
}


def fhir_bundle(doc: PrescriptionDocument) -> dict[str, Any]:
    """The prescription as a validated FHIR R4 collection Bundle (a plain JSON-able dict)."""
    return _validated(_bundle(doc, []))


def fhir_bundle_with_pdf(doc: PrescriptionDocument, pdf: bytes) -> dict[str, Any]:
    """The bundle plus the printable prescription as a Binary, for pharmacies whose systems
    take the FHIR and keep the PDF the patient may also show them."""
    binary = {
        "resourceType": "Binary",
        "id": f"{doc.id}-pdf",
        "contentType": "application/pdf",
        # Whoever may read the patient may read this copy of their prescription.
        "securityContext": {"reference": f"Patient/{doc.patient.id}"},
        "data": base64.b64encode(pdf).decode("ascii"),
    }
    return _validated(_bundle(doc, [binary]))


def validate_bundle(data: dict[str, Any]) -> None:
    """Raise ValueError unless `data` parses as an R4(B) Bundle and its MedicationRequests use
    R4 codes where R4 requires them.

    The message names where and what, never the offending values, and the pydantic error is
    not chained: its text quotes inputs, and a bundle is full of PHI that must not reach logs."""
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False, include_context=False)
        )
        raise ValueError(f"not a valid FHIR R4 Bundle: {where}") from None
    problems = list(_binding_problems(data))
    if problems:
        raise ValueError(f"not a valid FHIR R4 Bundle: {'; '.join(problems)}")


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    validate_bundle(data)
    return data


def _binding_problems(data: dict[str, Any]) -> Iterable[str]:
    for n, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "MedicationRequest":
            continue
        where = f"entry.{n}.resource"
        if resource.get("status") not in R4_REQUEST_STATUSES:
            yield f"{where}.status: not an R4 MedicationRequest status"
        if resource.get("intent") not in R4_REQUEST_INTENTS:
            yield f"{where}.intent: not an R4 MedicationRequest intent"
        for d, dosage in enumerate(resource.get("dosageInstruction") or []):
            unit = ((dosage.get("timing") or {}).get("repeat") or {}).get("periodUnit")
            if unit is not None and unit not in R4_PERIOD_UNITS:
                yield f"{where}.dosageInstruction.{d}.timing.repeat.periodUnit: not a UCUM unit"


def _bundle(doc: PrescriptionDocument, extra: list[dict[str, Any]]) -> dict[str, Any]:
    if doc.status not in STATUS:
        raise ValueError(f"unknown prescription status {doc.status!r}")
    base = _base_url(doc.verify_url)
    patient: dict[str, Any] = {"resourceType": "Patient", "id": doc.patient.id}
    if doc.patient.name:
        patient["name"] = [{"text": doc.patient.name}]
    if doc.patient.birth_date is not None:
        patient["birthDate"] = doc.patient.birth_date.isoformat()
    practitioner: dict[str, Any] = {"resourceType": "Practitioner", "id": doc.prescriber.id}
    if doc.prescriber.license_number:
        practitioner["identifier"] = [
            {"system": LICENSE_SYSTEM, "value": doc.prescriber.license_number}
        ]
    if doc.prescriber.name:
        practitioner["name"] = [{"text": doc.prescriber.name}]
    resources = [
        patient,
        practitioner,
        *(_medication_request(doc, n, item) for n, item in enumerate(doc.items, start=1)),
        *extra,
    ]
    return {
        "resourceType": "Bundle",
        "id": doc.id,
        "type": "collection",
        # When the bundle was put together, as R4 defines it: the status inside is as of now.
        "timestamp": _instant(datetime.now(UTC)),
        "entry": [
            {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def _base_url(verify_url: str) -> str:
    """The FHIR base our resources are named under.

    Entries reference each other relatively ("Patient/<id>"), and R4 resolves those within a
    bundle only against a RESTful fullUrl (urn:uuid fullUrls would leave them dangling), so
    fullUrls are `<site>/fhir/<type>/<id>`: identities on our own site, taken from the verify
    link that the caller already builds from the public URL."""
    parts = urlsplit(verify_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("verify_url must be an absolute http(s) URL")
    return f"{parts.scheme}://{parts.netloc}/fhir/"


def _medication_request(doc: PrescriptionDocument, n: int, item: DocItem) -> dict[str, Any]:
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"{doc.id}-{n}",
        "identifier": [{"system": VERIFICATION_SYSTEM, "value": doc.verification_code}],
        "status": STATUS[doc.status],
    }
    if doc.status == "expired":
        request["statusReason"] = {"text": "Expired: past the prescription's validity period"}
    request |= {
        "intent": "order",
        "medicationCodeableConcept": _medication(item),
        "subject": {"reference": f"Patient/{doc.patient.id}"},
        "authoredOn": _instant(doc.issued_at),
        "requester": {"reference": f"Practitioner/{doc.prescriber.id}"},
        "groupIdentifier": {"system": PRESCRIPTION_SYSTEM, "value": doc.id},
        "dosageInstruction": [_dosage(item)],
        "dispenseRequest": {
            "validityPeriod": {"start": _instant(doc.issued_at), "end": _instant(doc.expires_at)},
            "numberOfRepeatsAllowed": item.refills,
            "quantity": {"value": item.quantity} | ({"unit": item.form} if item.form else {}),
            "expectedSupplyDuration": _days(item.duration_days),
        },
        "substitution": {"allowedBoolean": item.substitution_allowed},
    }
    if doc.refill_of:
        # The earlier prescription is not in this bundle and its items carry no id of their
        # own outside it: name it by the identifier every one of its requests is grouped by.
        request["priorPrescription"] = {
            "type": "MedicationRequest",
            "identifier": {"system": PRESCRIPTION_SYSTEM, "value": doc.refill_of},
        }
    return request


def _medication(item: DocItem) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": item.title}
    if item.rxnorm and not item.free_text:
        concept["coding"] = [{"system": RXNORM, "code": item.rxnorm, "display": item.name}]
    return concept


def _dosage(item: DocItem) -> dict[str, Any]:
    try:
        frequency = vocab.FREQUENCIES[item.frequency]
    except KeyError:
        raise ValueError(f"unknown frequency {item.frequency!r}") from None
    repeat: dict[str, Any] = {"boundsDuration": _days(item.duration_days)}
    if not frequency.as_needed:
        # For "when needed" the vocabulary's 1/day is a placeholder; sent as Timing it would
        # read as a schedule, or as a daily limit nobody set.
        repeat |= {
            "frequency": frequency.fhir_frequency,
            "period": _number(frequency.fhir_period),
            "periodUnit": frequency.fhir_period_unit,
        }
    if item.frequency == "once":
        repeat["count"] = 1
    elif item.frequency == "at_bedtime":
        repeat["when"] = ["HS"]
    dosage: dict[str, Any] = {
        "sequence": 1,
        "text": sig(item),
        "timing": {"repeat": repeat},
        "asNeededBoolean": frequency.as_needed,
    }
    if item.instructions.strip():
        dosage["patientInstruction"] = item.instructions
    if item.route:
        try:
            code, display = vocab.ROUTE_SNOMED[item.route]
        except KeyError:
            raise ValueError(f"unknown route {item.route!r}") from None
        dosage["route"] = {
            "coding": [{"system": SNOMED, "code": code, "display": display}],
            "text": vocab.ROUTES[item.route],
        }
    dose = _dose_quantity(item.dose)
    if dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": dose}]
    return dosage


def sig(item: DocItem) -> str:
    """The directions in words ('1 capsule by mouth three times a day for 7 days'): what a
    pharmacist reads when the structured timing is not enough, and the dose when it did not
    parse."""
    frequency = vocab.FREQUENCIES.get(item.frequency)
    route = vocab.ROUTES.get(item.route, "")
    parts = [item.dose.strip(), route[:1].lower() + route[1:]]
    parts.append(frequency.label if frequency else item.frequency)
    if item.frequency != "once" and item.duration_days > 0:
        parts.append(f"for {item.duration_days} day{'s' if item.duration_days != 1 else ''}")
    return " ".join(part for part in parts if part)


def _dose_quantity(dose: str) -> dict[str, Any] | None:
    match = _DOSE.fullmatch(unicodedata.normalize("NFKC", dose).strip())
    if match is None:
        return None
    value, unit = match.groups()
    quantity: dict[str, Any] = {"value": _number(float(value)), "unit": unit}
    code = _UCUM_UNITS.get(unit.lower())
    if code is not None:
        quantity |= {"system": UCUM, "code": code}
    return quantity


def _days(days: int) -> dict[str, Any]:
    return {"value": days, "unit": "days", "system": UCUM, "code": "d"}


def _number(value: float) -> int | float:
    """Whole numbers as JSON integers: '1', not '1.0', in what pharmacies read."""
    return int(value) if float(value).is_integer() else value


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("prescription times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
