"""The FHIR export and the printable PDF of a prescription, built from plain documents: no
database, no services, just what a pharmacy would receive."""

from __future__ import annotations

import base64
import dataclasses
import logging
import re
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from prescriptions import pdf as pdf_module
from prescriptions import vocab
from prescriptions.documents import (
    DocItem,
    DocPatient,
    DocPrescriber,
    PrescriptionDocument,
)
from prescriptions.fhir import (
    LICENSE_SYSTEM,
    PRESCRIPTION_SYSTEM,
    RXNORM,
    SNOMED,
    VERIFICATION_SYSTEM,
    fhir_bundle,
    fhir_bundle_with_pdf,
    validate_bundle,
)
from prescriptions.pdf import render_pdf

ISSUED = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)
RX_ID = "3f0c2a0e-8a3b-4c55-9d2e-0c7d2b1f9a10"
PRIOR_ID = "1b2c3d4e-0000-4c55-9d2e-0c7d2b1f9a10"
PATIENT_ID = "7d3e0d2c-1111-4c55-9d2e-0c7d2b1f9a10"
DOCTOR_ID = "8e4f1e3d-2222-4c55-9d2e-0c7d2b1f9a10"
CODE = "K7QX-4M2P-9TRA"


def amoxicillin(**overrides: Any) -> DocItem:
    values: dict[str, Any] = {
        "name": "Amoxicillin",
        "rxnorm": "723",
        "free_text": False,
        "strength": "500 mg",
        "form": "capsule",
        "dose": "1 capsule",
        "route": "oral",
        "frequency": "three_times_daily",
        "duration_days": 7,
        "quantity": 21,
        "refills": 2,
        "instructions": "Take with food.",
        "substitution_allowed": True,
    }
    return DocItem(**(values | overrides))


def herbal_balm() -> DocItem:
    """Free text (not in the catalog), as needed, and a dose that is not a plain quantity."""
    return DocItem(
        name="Calendula balm",
        rxnorm="",
        free_text=True,
        strength="5%",
        form="ointment",
        dose="a thin layer",
        route="topical",
        frequency="as_needed",
        duration_days=30,
        quantity=1,
        refills=0,
        instructions="",
        substitution_allowed=False,
    )


def document(**overrides: Any) -> PrescriptionDocument:
    values: dict[str, Any] = {
        "id": RX_ID,
        "status": "active",
        "issued_at": ISSUED,
        "expires_at": ISSUED + timedelta(days=vocab.VALID_DAYS),
        "verification_code": CODE,
        "verify_url": f"https://careconnect.example/verify?code={CODE}",
        "patient": DocPatient(id=PATIENT_ID, name="Ana Silva", birth_date=date(1984, 3, 9)),
        "prescriber": DocPrescriber(
            id=DOCTOR_ID,
            name="Dr Rui Costa",
            license_number="OM-48213",
            center_name="Lisbon Clinic",
            center_address="Rua Augusta 12, Lisboa",
            center_phone="+351 21 000 0000",
        ),
        "items": (amoxicillin(), herbal_balm()),
        "refill_of": PRIOR_ID,
    }
    return PrescriptionDocument(**(values | overrides))


def requests_of(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]


def only_request(bundle: dict[str, Any]) -> dict[str, Any]:
    (request,) = requests_of(bundle)
    return request


# --- FHIR ----------------------------------------------------------------------------------


def test_the_bundle_is_valid_r4_and_holds_patient_prescriber_and_one_request_per_item() -> None:
    bundle = fhir_bundle(document())

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert bundle["id"] == RX_ID
    assert bundle["timestamp"].endswith("Z")
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Practitioner", "MedicationRequest", "MedicationRequest"]
    patient, practitioner = (e["resource"] for e in bundle["entry"][:2])
    assert patient == {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "name": [{"text": "Ana Silva"}],
        "birthDate": "1984-03-09",
    }
    assert practitioner["identifier"] == [{"system": LICENSE_SYSTEM, "value": "OM-48213"}]
    assert practitioner["name"] == [{"text": "Dr Rui Costa"}]
    for n, request in enumerate(requests_of(bundle), start=1):
        MedicationRequest.model_validate(request)
        assert request["id"] == f"{RX_ID}-{n}"
        assert request["intent"] == "order"
        assert request["authoredOn"] == "2026-11-22T14:05:00Z"
        assert request["groupIdentifier"] == {"system": PRESCRIPTION_SYSTEM, "value": RX_ID}
        assert request["identifier"] == [{"system": VERIFICATION_SYSTEM, "value": CODE}]


def test_every_reference_resolves_inside_the_bundle() -> None:
    # R4 resolves "Patient/<id>" against the base of the entry's (RESTful) fullUrl.
    bundle = fhir_bundle(document())
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == (
            f"https://careconnect.example/fhir/{resource['resourceType']}/{resource['id']}"
        )
    for request in requests_of(bundle):
        for reference in (request["subject"], request["requester"]):
            assert f"https://careconnect.example/fhir/{reference['reference']}" in full_urls
    assert requests_of(bundle)[0]["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
    assert requests_of(bundle)[0]["requester"] == {"reference": f"Practitioner/{DOCTOR_ID}"}


def test_catalog_medicines_carry_rxnorm_and_free_text_ones_only_their_words() -> None:
    coded, free = requests_of(fhir_bundle(document()))

    assert coded["medicationCodeableConcept"] == {
        "text": "Amoxicillin 500 mg capsule",
        "coding": [{"system": RXNORM, "code": "723", "display": "Amoxicillin"}],
    }
    assert free["medicationCodeableConcept"] == {"text": "Calendula balm 5% ointment"}


def test_dosage_is_structured_where_it_is_plain_and_words_otherwise() -> None:
    coded, free = requests_of(fhir_bundle(document()))

    dosage = coded["dosageInstruction"][0]
    assert dosage["text"] == "1 capsule by mouth three times a day for 7 days"
    assert dosage["patientInstruction"] == "Take with food."
    assert dosage["route"]["coding"] == [
        {"system": SNOMED, "code": "26643006", "display": "Oral route"}
    ]
    assert dosage["doseAndRate"] == [{"doseQuantity": {"value": 1, "unit": "capsule"}}]
    assert dosage["asNeededBoolean"] is False

    dosage = free["dosageInstruction"][0]
    assert "doseAndRate" not in dosage
    assert "patientInstruction" not in dosage
    assert dosage["text"].startswith("a thin layer on the skin when needed")
    assert dosage["route"]["coding"][0]["code"] == vocab.ROUTE_SNOMED["topical"][0]


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        (
            "500 mg",
            {"value": 500, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
        ),
        (
            "2.5 mL",
            {"value": 2.5, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"},
        ),
        ("2 puffs", {"value": 2, "unit": "puffs"}),
        ("1-2 tablets", None),
        ("1 puff each nostril", None),
        ("1,000 units", None),
    ],
)
def test_only_a_number_and_one_word_become_a_dose_quantity(
    dose: str, expected: dict[str, Any] | None
) -> None:
    bundle = fhir_bundle(document(items=(amoxicillin(dose=dose),)))

    dosage = only_request(bundle)["dosageInstruction"][0]
    assert dosage.get("doseAndRate") == ([{"doseQuantity": expected}] if expected else None)
    assert dosage["text"].startswith(dose)


@pytest.mark.parametrize("code", sorted(vocab.FREQUENCIES))
def test_every_frequency_becomes_a_valid_timing(code: str) -> None:
    frequency = vocab.FREQUENCIES[code]
    bundle = fhir_bundle(document(items=(amoxicillin(frequency=code, duration_days=5),)))

    Bundle.model_validate(bundle)
    dosage = only_request(bundle)["dosageInstruction"][0]
    repeat = dosage["timing"]["repeat"]
    assert repeat["boundsDuration"] == {
        "value": 5,
        "unit": "days",
        "system": "http://unitsofmeasure.org",
        "code": "d",
    }
    assert dosage["asNeededBoolean"] is frequency.as_needed
    assert frequency.label in dosage["text"]
    if frequency.as_needed:
        assert "frequency" not in repeat
        assert "period" not in repeat
    else:
        assert repeat["frequency"] == frequency.fhir_frequency
        assert repeat["period"] == frequency.fhir_period
        assert repeat["periodUnit"] == frequency.fhir_period_unit


@pytest.mark.parametrize(
    ("code", "frequency", "period", "unit"),
    [
        ("twice_daily", 2, 1, "d"),
        ("every_8_hours", 1, 8, "h"),
        ("once_weekly", 1, 1, "wk"),
    ],
)
def test_timing_says_how_often_in_fhir_terms(
    code: str, frequency: int, period: int, unit: str
) -> None:
    bundle = fhir_bundle(document(items=(amoxicillin(frequency=code),)))

    repeat = only_request(bundle)["dosageInstruction"][0]["timing"]["repeat"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (
        frequency,
        period,
        unit,
    )


def test_a_single_dose_and_a_bedtime_dose_say_so() -> None:
    once = fhir_bundle(document(items=(amoxicillin(frequency="once", duration_days=1),)))
    bedtime = fhir_bundle(document(items=(amoxicillin(frequency="at_bedtime"),)))

    assert only_request(once)["dosageInstruction"][0]["timing"]["repeat"]["count"] == 1
    assert only_request(bedtime)["dosageInstruction"][0]["timing"]["repeat"]["when"] == ["HS"]


def test_the_dispense_request_carries_quantity_refills_supply_and_validity() -> None:
    bundle = fhir_bundle(document(items=(amoxicillin(refills=3, quantity=42, duration_days=14),)))

    request = only_request(bundle)
    assert request["dispenseRequest"] == {
        "validityPeriod": {"start": "2026-11-22T14:05:00Z", "end": "2027-11-22T14:05:00Z"},
        "numberOfRepeatsAllowed": 3,
        "quantity": {"value": 42, "unit": "capsule"},
        "expectedSupplyDuration": {
            "value": 14,
            "unit": "days",
            "system": "http://unitsofmeasure.org",
            "code": "d",
        },
    }
    assert request["substitution"] == {"allowedBoolean": True}


def test_a_refill_points_at_the_prescription_it_renews() -> None:
    refill = only_request(fhir_bundle(document(items=(amoxicillin(),))))
    original = only_request(fhir_bundle(document(items=(amoxicillin(),), refill_of=None)))

    assert refill["priorPrescription"] == {
        "type": "MedicationRequest",
        "identifier": {"system": PRESCRIPTION_SYSTEM, "value": PRIOR_ID},
    }
    assert "priorPrescription" not in original


@pytest.mark.parametrize(
    ("status", "fhir_status"),
    [
        ("active", "active"),
        ("completed", "completed"),
        ("cancelled", "cancelled"),
        ("expired", "stopped"),
    ],
)
def test_each_status_maps_onto_an_r4_request_status(status: str, fhir_status: str) -> None:
    bundle = fhir_bundle(document(status=status))

    for request in requests_of(bundle):
        assert request["status"] == fhir_status
        assert ("statusReason" in request) is (status == "expired")


def test_a_patient_without_a_known_birth_date_has_none_in_fhir() -> None:
    patient = DocPatient(id=PATIENT_ID, name="Ana Silva", birth_date=None)

    bundle = fhir_bundle(document(patient=patient))

    assert "birthDate" not in bundle["entry"][0]["resource"]


def test_the_pharmacy_variant_adds_the_pdf_as_a_binary() -> None:
    doc = document()
    pdf = render_pdf(doc)

    bundle = fhir_bundle_with_pdf(doc, pdf)

    Bundle.model_validate(bundle)
    assert len(bundle["entry"]) == len(fhir_bundle(doc)["entry"]) + 1
    binary = bundle["entry"][-1]["resource"]
    assert binary["resourceType"] == "Binary"
    assert binary["contentType"] == "application/pdf"
    assert base64.b64decode(binary["data"]) == pdf
    assert binary["securityContext"] == {"reference": f"Patient/{PATIENT_ID}"}
    assert bundle["entry"][-1]["fullUrl"].endswith(f"/fhir/Binary/{RX_ID}-pdf")


def test_validation_refuses_codes_r4_does_not_have_without_quoting_the_data() -> None:
    bundle = fhir_bundle(document())
    requests_of(bundle)[0]["status"] = "expired"  # ours, not R4's

    with pytest.raises(ValueError, match=r"entry\.2\.resource\.status"):
        validate_bundle(bundle)


def test_validation_refuses_malformed_resources_without_quoting_the_data() -> None:
    bundle = fhir_bundle(document())
    bundle["entry"][0]["resource"]["birthDate"] = "Ana Silva"

    with pytest.raises(ValueError, match="birthDate") as raised:
        validate_bundle(bundle)
    assert "Ana Silva" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"issued_at": datetime(2026, 11, 22, 14, 5)}, "timezone-aware"),  # noqa: DTZ001
        ({"verify_url": "/verify?code=K7QX-4M2P-9TRA"}, "absolute"),
        ({"status": "draft"}, "unknown prescription status"),
        ({"items": (amoxicillin(frequency="hourly"),)}, "unknown frequency"),
        ({"items": (amoxicillin(route="intrathecal"),)}, "unknown route"),
    ],
)
def test_what_cannot_be_exported_faithfully_is_refused(
    overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        fhir_bundle(document(**overrides))


# --- PDF -----------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text shown on the pages, in drawing order, words separated by single spaces.

    No PDF reader is installed, so this reads what fpdf2 writes: Flate-compressed content
    streams drawing literal strings with Tj, in a Type0 font mapped back to Unicode by its
    ToUnicode CMap (two bytes a glyph), or in a built-in font (Latin-1, one byte a glyph)."""
    objects = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(rb"(\d+) 0 obj\s*(.*?)\s*endobj", data, re.DOTALL)
    }

    def stream(body: bytes) -> bytes:
        m = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.DOTALL)
        assert m is not None
        return zlib.decompress(m.group(1)) if b"/FlateDecode" in body else m.group(1)

    def cmap_of(font: bytes) -> dict[int, str] | None:
        m = re.search(rb"/ToUnicode (\d+) 0 R", font)
        if m is None:
            return None
        cmap = stream(objects[int(m.group(1))])
        mapping: dict[int, str] = {}
        for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", section):
                mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for section in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
            for start, end, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", section
            ):
                for offset in range(int(end, 16) - int(start, 16) + 1):
                    mapping[int(start, 16) + offset] = chr(int(dst, 16) + offset)
        return mapping

    fonts: dict[bytes, dict[int, str] | None] = {}
    pieces: list[str] = []
    for body in objects.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            fonts[name] = cmap_of(objects[int(ref)])
    for body in objects.values():
        if b"stream" not in body or b"/Type" in body.split(b"stream")[0]:
            continue
        content = stream(body)
        if b"Tf" not in content:
            continue
        current: dict[int, str] | None = None
        for font, string in re.findall(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", content):
            if font:
                current = fonts[font]
                continue
            raw = _unescape(string)
            if current is None:
                pieces.append(raw.decode("latin-1"))
            else:
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
                pieces.append("".join(current.get(code, "\ufffd") for code in codes))
    return " ".join(" ".join(pieces).split())


def _unescape(string: bytes) -> bytes:
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(m: re.Match[bytes]) -> bytes:
        token = m.group(1)
        if token[:1].isdigit():
            return bytes([int(token, 8)])
        return escapes.get(token, token)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, string, flags=re.DOTALL)


def test_the_pdf_shows_what_to_dispense_and_how_to_verify_it() -> None:
    data = render_pdf(document())

    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in (
        "CareConnect",
        "Lisbon Clinic",
        "Rua Augusta 12, Lisboa",
        "+351 21 000 0000",
        "Prescription",
        "Ana Silva",
        "9 Mar 1984",
        "Dr Rui Costa",
        "OM-48213",
        "22 Nov 2026",
        "22 Nov 2027",
        "Amoxicillin 500 mg capsule",
        "1 capsule",
        "By mouth",
        "three times a day",
        "7 days",
        "Take with food.",
        "Calendula balm 5% ointment",
        "On the skin",
        "when needed",
        f"Verification code: {CODE}",
        f"https://careconnect.example/verify?code={CODE}",
        "Electronically signed by Dr Rui Costa on 22 Nov 2026 14:05 UTC",
        "Refill of 1B2C3D4E",
    ):
        assert expected in text, expected
    assert "Dr Dr" not in text
    assert "not valid for dispensing" not in text


@pytest.mark.parametrize("status", ["cancelled", "expired", "completed"])
def test_a_prescription_that_must_not_be_dispensed_says_so(status: str) -> None:
    text = pdf_text(render_pdf(document(status=status)))

    assert f"{status.upper()} - not valid for dispensing" in text


def test_the_pdf_metadata_names_no_one() -> None:
    data = render_pdf(document())

    title = re.search(rb"/Title \(([^)]*)\)", data)
    assert title is not None
    assert title.group(1) == b"CareConnect prescription"
    for key in (b"/Author", b"/Subject", b"/Keywords"):
        assert key not in data


def test_names_beyond_latin_1_print_as_written_and_unprintable_ones_safely(
    caplog: pytest.LogCaptureFixture,
) -> None:
    patient = DocPatient(id=PATIENT_ID, name="Zoë Łukasz 山田太郎", birth_date=None)
    doctor = dataclasses.replace(document().prescriber, name="Dr Αλέξανδρος Петров")

    with caplog.at_level(logging.DEBUG):
        data = render_pdf(document(patient=patient, prescriber=doctor))

    text = pdf_text(data)
    assert "Zoë Łukasz" in text
    assert "Dr Αλέξανδρος Петров" in text
    assert "山" not in text  # no font here has it: it must not vanish silently, nor fail
    assert "Zoë Łukasz ????" in text
    # fpdf2 logs the characters a font lacks: a patient's name must not reach the logs.
    assert not any("Łukasz" in r.getMessage() or "山" in r.getMessage() for r in caplog.records)
    # ...nor the letters it is made of (fontTools lists a subset's glyphs at INFO).
    assert not [r for r in caplog.records if "Lslash" in r.getMessage()]


def test_without_a_unicode_font_the_pdf_falls_back_to_latin_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pdf_module, "FONT_DIRS", (tmp_path,))
    patient = DocPatient(id=PATIENT_ID, name="Zoë Łukasz", birth_date=None)

    text = pdf_text(render_pdf(document(patient=patient, status="cancelled")))

    assert "Zoë ?ukasz" in text
    assert "CANCELLED - not valid for dispensing" in text
    assert CODE in text


def test_a_long_prescription_runs_onto_more_pages_and_every_page_names_the_code() -> None:
    items = tuple(
        amoxicillin(name=f"Medicine {n}", instructions="Shake well. " * 20) for n in range(10)
    )

    data = render_pdf(document(items=items))

    pages = int(re.findall(rb"/Count (\d+)", data)[0])
    assert pages > 1
    text = pdf_text(data)
    assert text.count(f"verification code {CODE}") == pages
    assert f"page {pages} of {pages}" in text
    assert all(f"Medicine {n}" in text for n in range(10))
