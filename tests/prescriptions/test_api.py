"""Prescriptions over REST (docs/api-prescriptions.md): prescribing after a consult with
safety checks, overrides and re-authentication; who may read and change what; refills;
bad input refused with nothing written."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careconnect.accounts.models import Role
from careconnect.audit.models import AuditEvent
from chat.models import CardState, Message
from prescriptions.models import Prescription, RefillRequest
from prescriptions.services import ReauthFailedError, reauthenticate
from tests.chat.conftest import make_grant
from tests.conftest import Api, signed_in
from tests.factories import PASSWORD, make_doctor, make_patient, make_staff
from tests.prescriptions.conftest import Visit, item, make_visit, med, record_health
from tests.utils import raw_database_text

pytestmark = pytest.mark.django_db

WARFARIN_IBUPROFEN = "interaction:ibuprofen|warfarin"


def _body(visit: Visit, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"patient": str(visit.patient.id), "items": items, "password": PASSWORD, **extra}


def _prescribe(
    api: Api, visit: Visit, items: list[dict[str, Any]] | None = None, **extra: Any
) -> Any:
    chosen = items if items is not None else [item("amoxicillin")]
    return api.post("/api/prescriptions/", _body(visit, chosen, **extra))


def _issued(api: Api, visit: Visit, slug: str = "amoxicillin", **fields: Any) -> dict[str, Any]:
    """Issue one medicine (a different `slug` each time: a repeat would be duplicate therapy)."""
    response = _prescribe(api, visit, [item(slug, **fields)])
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


# ------------------------------------------------------------------ prescribing


def test_doctor_prescribes_two_medicines_overriding_a_major_interaction(
    api: Api, visit: Visit
) -> None:
    signed_in(api, visit.doctor)
    items = [
        item("warfarin", strength="5 mg", instructions="Evening dose, INR weekly"),
        item("ibuprofen", strength="400 mg", frequency="as_needed"),
    ]
    # when: signing without a reason for the major finding
    refused = _prescribe(api, visit, items)
    # then: refused, naming the finding, nothing written
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "override_required"
    assert refused.json()["error"]["fields"]["findings"] == [WARFARIN_IBUPROFEN]
    assert not Prescription.objects.exists()

    overrides = [{"finding": WARFARIN_IBUPROFEN, "reason": "Short course; INR checked day 3"}]
    response = _prescribe(api, visit, items, overrides=overrides)

    assert response.status_code == 201, response.content
    data = response.json()
    assert [i["name"] for i in data["items"]] == ["Warfarin", "Ibuprofen"]
    assert data["status"] == "active"
    assert data["overrides"][0]["finding"] == WARFARIN_IBUPROFEN
    assert data["overrides"][0]["severity"] in {"major", "contraindicated"}
    assert data["overrides"][0]["reason"] == "Short course; INR checked day 3"
    assert len(data["verification_code"]) == 14
    # the override is audited; the card is in the conversation, medicines sealed
    assert AuditEvent.objects.filter(
        action="prescription.override", object_id=data["id"], detail__finding=WARFARIN_IBUPROFEN
    ).exists()
    card = Message.objects.get(action="prescriptions.issue_prescription", target_id=data["id"])
    assert card.state == CardState.COMPLETED
    assert card.payload["item_count"] == 2
    assert "Warfarin" not in str(card.payload)
    stored = raw_database_text()
    assert "INR checked day 3" not in stored
    assert "Evening dose, INR weekly" not in stored


def test_signing_asks_for_the_password_or_a_code_again(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    missing = _prescribe(api, visit, password="")
    wrong = _prescribe(api, visit, password="not-my-password")
    assert (missing.status_code, missing.json()["error"]["code"]) == (403, "reauth_required")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "reauth_failed")
    assert not Prescription.objects.exists()
    # an authentication code only works for someone who turned two-factor on
    otp = _prescribe(api, visit, password="", otp="123456")
    assert (otp.status_code, otp.json()["error"]["code"]) == (403, "reauth_failed")


def test_wrong_passwords_lock_re_authentication_for_a_while(
    api: Api, visit: Visit, settings: Any
) -> None:
    # given: a doctor's session, and a limit of 3 wrong answers per 15 minutes
    settings.REAUTH_MAX_FAILURES = 3
    settings.REAUTH_LOCKOUT_SECONDS = 900
    signed_in(api, visit.doctor)
    # when: three wrong passwords (a code counts too), then the right one
    wrong = [_prescribe(api, visit, password=f"guess-{n}") for n in range(2)]
    wrong.append(_prescribe(api, visit, password="", otp="123456"))
    locked = _prescribe(api, visit)
    # then: the wrong ones are refused as such (each on record, though the signing's
    # transaction rolled back), and the right one too while locked
    assert [r.json()["error"]["code"] for r in wrong] == ["reauth_failed"] * 3
    failed = AuditEvent.objects.filter(action="account.reauth_failed", actor=visit.doctor)
    assert failed.count() == 3
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "throttled"
    assert "15 minutes" in locked.json()["error"]["message"]
    assert 0 < int(locked["Retry-After"]) <= 900
    assert not Prescription.objects.exists()


def test_the_lockout_ends_on_its_own(api: Api, visit: Visit, settings: Any) -> None:
    settings.REAUTH_MAX_FAILURES = 1
    settings.REAUTH_LOCKOUT_SECONDS = 1
    signed_in(api, visit.doctor)
    assert _prescribe(api, visit, password="guess").status_code == 403
    assert _prescribe(api, visit).status_code == 429
    time.sleep(1.2)  # real time: the counters expire in the cache itself (Redis or local)
    assert _prescribe(api, visit).status_code == 201


def test_a_right_password_resets_the_count_of_wrong_ones(visit: Visit, settings: Any) -> None:
    settings.REAUTH_MAX_FAILURES = 2
    doctor = visit.doctor
    with pytest.raises(ReauthFailedError):
        reauthenticate(user=doctor, password="guess")
    reauthenticate(user=doctor, password=PASSWORD)
    with pytest.raises(ReauthFailedError):
        reauthenticate(user=doctor, password="guess")
    reauthenticate(user=doctor, password=PASSWORD)  # one wrong answer since: not locked


def test_prescribing_is_allowed_up_to_seven_days_after_a_completed_visit(api: Api) -> None:
    recent, old = make_visit(days_ago=6.5), make_visit(days_ago=8)
    booked = make_visit(days_ago=-2, status="confirmed")  # in two days
    for visit, expected in ((recent, 201), (old, 403), (booked, 403)):
        signed_in(api, visit.doctor)
        response = _prescribe(api, visit)
        assert response.status_code == expected, response.content
        if expected == 403:
            assert response.json()["error"]["code"] == "no_recent_consult"


def test_prescribing_during_a_live_consult_and_after_one_ended_early(
    api: Api, settings: Any
) -> None:
    from consult import services as consult_services

    # given: a booked online visit in two days, whose consult opens now (a wide window)
    settings.CONSULT_OPEN_MINUTES_BEFORE = 4 * 24 * 60
    visit = make_visit(days_ago=-2, status="confirmed")
    signed_in(api, visit.doctor)
    consult_services.join(actor=visit.doctor, consult_id=visit.appointment.id)
    consult_services.join(actor=visit.patient, consult_id=visit.appointment.id)
    # the patient is only waiting: no consult yet
    assert _prescribe(api, visit).status_code == 403
    consult_services.admit(
        actor=visit.doctor, consult_id=visit.appointment.id, user_id=visit.patient.id
    )
    assert _prescribe(api, visit).status_code == 201  # live
    consult_services.end_consult(actor=visit.doctor, consult_id=visit.appointment.id)
    # ended (early) today; the amoxicillin is now active, so a second one would be a duplicate
    assert _prescribe(api, visit, [item("lisinopril", strength="10 mg")]).status_code == 201


def test_who_may_not_prescribe(api: Api, visit: Visit) -> None:
    nurse = make_staff(role=Role.NURSE)
    admin = make_staff(role=Role.CENTER_ADMIN)
    other_doctor = make_doctor()
    for user, status, code in (
        (nurse, 403, "doctors_only"),
        (admin, 403, "doctors_only"),
        (visit.patient, 403, "doctors_only"),
        (other_doctor, 404, "not_found"),  # never saw the patient: not revealed
    ):
        signed_in(api, user)
        response = _prescribe(api, visit)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not Prescription.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": 100000}, "quantity"),
        ({"duration_days": 0}, "duration_days"),
        ({"duration_days": 400}, "duration_days"),
        ({"refills": 12}, "refills"),
        ({"refills": -1}, "refills"),
        ({"frequency": "hourly-ish"}, "frequency"),
        ({"route": "telepathic"}, "route"),
        ({"medication": "6a0b0e9e-0000-4000-8000-000000000000"}, "medication"),
        ({"medication": None}, "medication"),
        ({"medication": None, "free_text": True, "name": ""}, "name"),
        ({"dose": ""}, "dose"),
    ],
)
def test_bad_items_are_refused_and_nothing_is_written(
    api: Api, visit: Visit, change: dict[str, Any], field: str
) -> None:
    signed_in(api, visit.doctor)
    response = _prescribe(api, visit, [item("amoxicillin", **change)])
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert field in str(response.json()["error"]["fields"])
    assert not Prescription.objects.exists()
    assert not Message.objects.filter(action="prescriptions.issue_prescription").exists()


def test_item_count_limits_and_controlled_refills(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    assert _prescribe(api, visit, []).status_code == 400
    assert _prescribe(api, visit, [item("amoxicillin")] * 11).status_code == 400
    # schedule II: no refills at all
    oxy = _prescribe(api, visit, [item("oxycodone", strength="5 mg", refills=1)])
    assert oxy.status_code == 400
    assert "refills" in str(oxy.json()["error"]["fields"])


def test_a_free_text_medicine_is_allowed_and_says_it_was_not_checked(
    api: Api, visit: Visit
) -> None:
    signed_in(api, visit.doctor)
    check = api.post(
        "/api/prescriptions/check/",
        {"patient": str(visit.patient.id), "medications": ["Compounded Magic Mouthwash"]},
    )
    assert check.status_code == 200
    assert check.json()["no_data"] == ["Compounded Magic Mouthwash"]
    free = item("amoxicillin", medication=None, free_text=True, name="Compounded Magic Mouthwash")
    response = _prescribe(api, visit, [free])
    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["free_text"] is True


def test_check_finds_allergy_and_duplicate_against_the_patients_record(
    api: Api, visit: Visit
) -> None:
    record_health(
        visit.patient,
        allergies=[{"substance": "Penicillin", "reaction": "hives", "severity": "moderate"}],
        medications=[{"name": "Ibuprofen 200 mg"}],
    )
    signed_in(api, visit.doctor)
    response = api.post(
        "/api/prescriptions/check/",
        {"patient": str(visit.patient.id), "medications": [med("amoxicillin"), "ibuprofen"]},
    )
    assert response.status_code == 200, response.content
    kinds = {f["kind"]: f for f in response.json()["findings"]}
    assert kinds["allergy"]["medications"][0] == "Amoxicillin"
    assert kinds["allergy"]["requires_override"] is True
    assert kinds["duplicate"]["severity"] == "major"
    assert AuditEvent.objects.filter(action="prescription.check", patient=visit.patient).exists()


def test_check_is_for_doctors_caring_for_the_patient(api: Api, visit: Visit) -> None:
    body = {"patient": str(visit.patient.id), "medications": ["warfarin"]}
    signed_in(api, make_staff(role=Role.NURSE))
    assert api.post("/api/prescriptions/check/", body).status_code == 403
    signed_in(api, make_doctor())
    assert api.post("/api/prescriptions/check/", body).status_code == 404


# ------------------------------------------------------------------ reading


def test_patient_and_family_with_view_records_see_prescriptions_active_first(
    api: Api, visit: Visit
) -> None:
    signed_in(api, visit.doctor)
    first = _issued(api, visit)
    second = _issued(api, visit, "lisinopril")
    api.post(f"/api/prescriptions/{second['id']}/cancel/", {"reason": "Wrong strength"})
    family, nosy = make_patient(), make_patient()
    make_grant(visit.patient, family, ["view_records"])
    limited = make_patient()
    make_grant(visit.patient, limited, ["book", "message"])

    signed_in(api, visit.patient)
    mine = api.get("/api/prescriptions/").json()["results"]
    assert [p["id"] for p in mine] == [first["id"], second["id"]]
    assert mine[1]["cancel_reason"] == "Wrong strength"
    assert api.get(f"/api/prescriptions/{first['id']}/").status_code == 200

    signed_in(api, family)
    theirs = api.get(f"/api/prescriptions/?patient={visit.patient.id}")
    assert [p["id"] for p in theirs.json()["results"]] == [first["id"], second["id"]]
    assert api.get(f"/api/prescriptions/{first['id']}/").status_code == 200
    assert AuditEvent.objects.filter(
        actor=family, action="prescription.read", acting_for=visit.patient
    ).exists()

    signed_in(api, limited)
    assert api.get(f"/api/prescriptions/?patient={visit.patient.id}").status_code == 403
    for suffix in ("", "pdf/", "fhir/"):
        assert api.get(f"/api/prescriptions/{first['id']}/{suffix}").status_code == 404

    for stranger in (nosy, make_staff(role=Role.NURSE), make_doctor()):
        signed_in(api, stranger)
        for suffix in ("", "pdf/", "fhir/"):
            assert api.get(f"/api/prescriptions/{first['id']}/{suffix}").status_code == 404
        assert api.get("/api/prescriptions/").json()["results"] == []


def test_pdf_and_fhir_downloads(api: Api, visit: Visit) -> None:
    from fhir.resources.R4B.bundle import Bundle

    signed_in(api, visit.doctor)
    issued = _issued(api, visit)
    signed_in(api, visit.patient)
    pdf = api.get(f"/api/prescriptions/{issued['id']}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    fhir = api.get(f"/api/prescriptions/{issued['id']}/fhir/")
    assert fhir.status_code == 200
    bundle = Bundle.model_validate(fhir.json())
    types = [type(e.resource).__name__ for e in bundle.entry or []]
    requests = [t for t in types if t == "MedicationRequest"]
    assert len(requests) == 1
    assert AuditEvent.objects.filter(action="prescription.export_pdf", actor=visit.patient).exists()
    assert AuditEvent.objects.filter(
        action="prescription.export_fhir", actor=visit.patient
    ).exists()


def test_verification_code_reveals_no_patient_data(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    issued = _issued(api, visit)
    anonymous = Api(api._capture)
    answer = anonymous.get(f"/api/prescriptions/verify/?code={issued['verification_code'].lower()}")
    assert answer.status_code == 200
    assert answer.json()["valid"] is True
    assert answer.json()["item_count"] == 1
    assert visit.patient.last_name not in answer.content.decode()
    assert "Amoxicillin" not in answer.content.decode()
    assert anonymous.get("/api/prescriptions/verify/?code=AAAA-BBBB-CCCC").json() == {
        "valid": False
    }


# ------------------------------------------------------------------ cancel


def test_only_the_prescribing_doctor_cancels(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    issued = _issued(api, visit)
    path = f"/api/prescriptions/{issued['id']}/cancel/"
    assert api.post(path, {"reason": ""}).status_code == 400
    signed_in(api, visit.patient)
    assert api.post(path, {"reason": "I changed my mind"}).status_code == 403
    signed_in(api, make_doctor())
    assert api.post(path, {"reason": "x"}).status_code == 404
    signed_in(api, visit.doctor)
    done = api.post(path, {"reason": "Rash reported"})
    assert done.status_code == 200
    assert done.json()["status"] == "cancelled"
    again = api.post(path, {"reason": "Rash reported"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "prescription_not_active")
    card = Message.objects.get(action="prescriptions.issue_prescription", target_id=issued["id"])
    assert card.state == CardState.CANCELLED


# ------------------------------------------------------------------ refills


def test_refill_request_then_approval_links_a_new_prescription(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    issued = _issued(api, visit, refills=2)
    signed_in(api, visit.patient)
    requested = api.post(f"/api/prescriptions/{issued['id']}/refill/")
    assert requested.status_code == 201, requested.content
    refill = requested.json()["refill_request"]
    assert refill["status"] == "pending"
    twice = api.post(f"/api/prescriptions/{issued['id']}/refill/")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "refill_pending")
    card = Message.objects.get(action="prescriptions.request_refill", target_id=refill["id"])
    assert card.state == CardState.OPEN

    # the patient cannot approve their own refill; another doctor cannot see it
    assert (
        api.post(f"/api/refills/{refill['id']}/approve/", {"password": PASSWORD}).status_code == 403
    )
    signed_in(api, make_doctor())
    assert (
        api.post(f"/api/refills/{refill['id']}/approve/", {"password": PASSWORD}).status_code == 404
    )

    signed_in(api, visit.doctor)
    assert api.post(f"/api/refills/{refill['id']}/approve/", {}).status_code == 403
    approved = api.post(f"/api/refills/{refill['id']}/approve/", {"password": PASSWORD})
    assert approved.status_code == 201, approved.content
    new = approved.json()
    assert new["refill_of"] == issued["id"]
    assert new["items"][0]["refills"] == 1
    assert new["id"] != issued["id"]
    old = api.get(f"/api/prescriptions/{issued['id']}/").json()
    assert (old["status"], old["renewal"]) == ("completed", new["id"])
    again = api.post(f"/api/refills/{refill['id']}/approve/", {"password": PASSWORD})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "refill_already_decided")
    card.refresh_from_db()
    assert (card.state, card.payload["status"]) == (CardState.COMPLETED, "approved")
    assert Prescription.objects.count() == 2


def test_a_refill_is_checked_again_against_the_record_as_it_is_now(api: Api, visit: Visit) -> None:
    # given: amoxicillin with a refill, then the patient reports a penicillin allergy
    signed_in(api, visit.doctor)
    issued = _issued(api, visit, refills=1)
    signed_in(api, visit.patient)
    refill = api.post(f"/api/prescriptions/{issued['id']}/refill/").json()["refill_request"]
    record_health(
        visit.patient,
        allergies=[{"substance": "Penicillin", "reaction": "hives", "severity": "severe"}],
    )
    # when: the doctor approves
    signed_in(api, visit.doctor)
    approved = api.post(f"/api/refills/{refill['id']}/approve/", {"password": PASSWORD})
    # then: refused, naming the new finding; nothing renewed, the refill still pending
    assert approved.status_code == 409, approved.content
    error = approved.json()["error"]
    assert error["code"] == "refill_needs_review"
    assert [f.split(":")[0] for f in error["fields"]["findings"]] == ["allergy"]
    assert Prescription.objects.count() == 1
    assert RefillRequest.objects.get(id=refill["id"]).status == RefillRequest.Status.PENDING


def test_what_the_prescriber_overrode_stays_overridden_on_a_refill(api: Api, visit: Visit) -> None:
    # given: warfarin and aspirin signed together, the major interaction overridden
    signed_in(api, visit.doctor)
    check = api.post(
        "/api/prescriptions/check/",
        {"patient": str(visit.patient.id), "medications": [med("warfarin"), med("aspirin")]},
    ).json()
    blocking = [f["id"] for f in check["findings"] if f["requires_override"]]
    assert blocking
    signed = _prescribe(
        api,
        visit,
        [item("warfarin", strength="5 mg", refills=1), item("aspirin", strength="81 mg")],
        overrides=[{"finding": f, "reason": "INR checked weekly"} for f in blocking],
    )
    assert signed.status_code == 201, signed.content
    signed_in(api, visit.patient)
    refill = api.post(f"/api/prescriptions/{signed.json()['id']}/refill/").json()
    # when: the doctor approves the refill (nothing changed in the record)
    signed_in(api, visit.doctor)
    approved = api.post(
        f"/api/refills/{refill['refill_request']['id']}/approve/", {"password": PASSWORD}
    )
    # then: renewed
    assert approved.status_code == 201, approved.content


def test_refill_declined_with_a_reason_the_patient_reads(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    issued = _issued(api, visit, refills=1)
    signed_in(api, visit.patient)
    refill = api.post(f"/api/prescriptions/{issued['id']}/refill/").json()["refill_request"]
    signed_in(api, visit.doctor)
    assert api.post(f"/api/refills/{refill['id']}/decline/", {"reason": ""}).status_code == 400
    declined = api.post(f"/api/refills/{refill['id']}/decline/", {"reason": "Book a review first"})
    assert declined.status_code == 200
    assert (
        api.post(f"/api/refills/{refill['id']}/approve/", {"password": PASSWORD}).status_code == 409
    )
    signed_in(api, visit.patient)
    seen = api.get(f"/api/prescriptions/{issued['id']}/").json()["refill_request"]
    assert (seen["status"], seen["decline_reason"]) == ("declined", "Book a review first")
    card = Message.objects.get(action="prescriptions.request_refill", target_id=refill["id"])
    assert card.state == CardState.CANCELLED


def test_refill_refused_without_refills_or_on_inactive_prescriptions(
    api: Api, visit: Visit
) -> None:
    signed_in(api, visit.doctor)
    none_left = _issued(api, visit, refills=0)
    cancelled = _issued(api, visit, "lisinopril", refills=3)
    expired = _issued(api, visit, "metformin", refills=3)
    api.post(f"/api/prescriptions/{cancelled['id']}/cancel/", {"reason": "Duplicate"})
    Prescription.objects.filter(id=expired["id"]).update(
        issued_at=timezone.now() - timedelta(days=400),
        expires_at=timezone.now() - timedelta(days=35),
    )
    signed_in(api, visit.patient)
    for rx, code in (
        (none_left, "no_refills_left"),
        (cancelled, "prescription_not_active"),
        (expired, "prescription_not_active"),
    ):
        response = api.post(f"/api/prescriptions/{rx['id']}/refill/")
        assert (response.status_code, response.json()["error"]["code"]) == (409, code)
    assert api.get(f"/api/prescriptions/{expired['id']}/").json()["status"] == "expired"
    assert not RefillRequest.objects.exists()


def test_family_member_refill_needs_view_records(api: Api, visit: Visit) -> None:
    signed_in(api, visit.doctor)
    issued = _issued(api, visit, refills=1)
    without, with_scope = make_patient(), make_patient()
    make_grant(visit.patient, without, ["book", "pay"])
    make_grant(visit.patient, with_scope, ["view_records"])
    signed_in(api, without)
    assert api.post(f"/api/prescriptions/{issued['id']}/refill/").status_code == 404
    signed_in(api, with_scope)
    assert api.post(f"/api/prescriptions/{issued['id']}/refill/").status_code == 201
    assert AuditEvent.objects.filter(
        action="prescription.refill_request", actor=with_scope, acting_for=visit.patient
    ).exists()


def test_allergies_and_medicines_written_by_brand_or_international_name_are_understood(
    api: Api, visit: Visit
) -> None:
    record_health(
        visit.patient,
        allergies=[{"substance": "Bactrim", "reaction": "rash", "severity": "moderate"}],
        medications=[{"name": "Paracetamol 500 mg"}],
    )
    signed_in(api, visit.doctor)
    response = api.post(
        "/api/prescriptions/check/",
        {
            "patient": str(visit.patient.id),
            "medications": ["sulfamethoxazole-trimethoprim", "acetaminophen"],
        },
    )
    findings = response.json()["findings"]
    assert {f["kind"] for f in findings} >= {"allergy", "duplicate"}
    allergy = next(f for f in findings if f["kind"] == "allergy")
    assert "Sulfamethoxazole" in allergy["medications"][0]
    assert "Paracetamol 500 mg" not in response.json()["no_data"]
    found = api.get("/api/medications/?q=paracetamol").json()["results"]
    assert [m["slug"] for m in found][:1] == ["acetaminophen"]
