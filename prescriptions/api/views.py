"""Prescription REST adapters (docs/api-prescriptions.md): validate, one service call, render."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careconnect.accounts.models import User
from careconnect.api import ScopedThrottle
from careconnect.api import request_user as _user
from careconnect.api import validated as _valid
from prescriptions import selectors, services, vocab
from prescriptions.api import serializers as s
from prescriptions.fhir import fhir_bundle
from prescriptions.models import Medication, Pharmacy, Prescription, RefillRequest
from prescriptions.pdf import render_pdf


def _medication(m: Medication, index: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "slug": m.slug,
        "name": m.name,
        "ingredients": m.ingredients,
        "classes": m.classes,
        "forms": m.forms,
        "strengths": m.strengths,
        "routes": m.routes,
        "brand_names": m.brand_names,
        "rxnorm": m.rxnorm,
        "controlled": m.controlled,
        "has_interaction_data": index.covers(selectors.drug_of(m, name=m.name, new=True)),
    }


def _refill(refill: RefillRequest | None, decline_reason: str) -> dict[str, Any] | None:
    if refill is None:
        return None
    return {
        "id": refill.id,
        "status": refill.status,
        "requested_at": refill.requested_at,
        "decided_at": refill.decided_at,
        "decline_reason": decline_reason,
        "new_prescription": refill.new_prescription_id,
    }


def _pharmacy(p: Pharmacy) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "address": p.address,
        "city": p.city,
        "postal_code": p.postal_code,
        "phone": p.phone,
        "email": p.email,
        "opening_hours": p.opening_hours,
        "channel": p.channel,
    }


def render(views: list[services.PrescriptionView]) -> list[dict[str, Any]]:
    ids = [v.prescription.id for v in views]
    conversations = selectors.card_conversations(ids)
    renewals = dict(
        Prescription.objects.filter(refill_of_id__in=ids).values_list("refill_of_id", "id")
    )
    rows = []
    for v in views:
        p, access = v.prescription, v.access
        active = p.status == Prescription.Status.ACTIVE
        left = services.refills_left(v.items)
        pending = v.refill is not None and v.refill.status == RefillRequest.Status.PENDING
        rows.append(
            {
                "id": p.id,
                "patient": p.patient_id,
                "patient_name": p.patient.full_name,
                "doctor": {
                    "id": p.doctor.id,
                    "name": str(p.doctor),
                    "center": p.doctor.center.name,
                    "license_number": p.doctor.license_number,
                },
                "appointment": p.appointment_id,
                "status": p.status,
                "issued_at": p.issued_at,
                "expires_at": p.expires_at,
                "verification_code": p.verification_code,
                "refill_of": p.refill_of_id,
                "renewal": renewals.get(p.id),
                "items": [
                    {
                        "medication": i.get("medication"),
                        "name": i["name"],
                        "free_text": bool(i.get("free_text")),
                        "strength": i.get("strength", ""),
                        "form": i.get("form", ""),
                        "dose": i["dose"],
                        "route": i["route"],
                        "route_label": vocab.ROUTES.get(i["route"], i["route"]),
                        "frequency": i["frequency"],
                        "frequency_label": vocab.FREQUENCIES[i["frequency"]].label,
                        "duration_days": i["duration_days"],
                        "quantity": i["quantity"],
                        "refills": i["refills"],
                        "instructions": i.get("instructions", ""),
                        "substitution_allowed": bool(i.get("substitution_allowed", True)),
                    }
                    for i in v.items
                ],
                "overrides": v.overrides,
                "refills_left": left,
                "refill_request": _refill(v.refill, v.decline_reason),
                "cancel_reason": v.cancel_reason,
                "reminders_enabled": p.reminders_enabled,
                "reminder_times": services.reminder_times(v.items),
                "reminder_timezone": p.reminder_timezone,
                "sends": [
                    {
                        "id": send.id,
                        "pharmacy": {"id": send.pharmacy_id, "name": send.pharmacy.name},
                        "channel": send.channel,
                        "status": send.status,
                        "created_at": send.created_at,
                        "sent_at": send.sent_at,
                    }
                    for send in p.sends.select_related("pharmacy")[:20]
                ],
                "conversation": conversations.get(str(p.id)),
                "can_cancel": access.prescriber and active,
                "can_request_refill": access.patient_side and active and left > 0 and not pending,
                "can_decide_refill": access.prescriber and pending,
                "can_send": access.patient_side and active,
                "pdf_url": f"/api/prescriptions/{p.id}/pdf/",
                "fhir_url": f"/api/prescriptions/{p.id}/fhir/",
            }
        )
    return list(s.PrescriptionOutput(rows, many=True).data)


def _one(actor: User, prescription_id: UUID) -> Any:
    return render([services.read_prescription(actor=actor, prescription_id=prescription_id)])[0]


class MedicationListApi(APIView):
    @extend_schema(parameters=[s.MedicationSearchInput], responses={200: s.MedicationListOutput})
    def get(self, request: Request) -> Response:
        _user(request)
        data = _valid(s.MedicationSearchInput, request.query_params)
        found = selectors.search_medications(q=data["q"], limit=data["limit"])
        index = selectors.rule_index()
        return Response({"results": [_medication(m, index) for m in found]})


class VocabularyApi(APIView):
    @extend_schema(responses={200: s.VocabularyOutput})
    def get(self, request: Request) -> Response:
        _user(request)
        return Response(
            {
                "frequencies": [
                    {
                        "code": f.code,
                        "label": f.label,
                        "times": list(f.times),
                        "as_needed": f.as_needed,
                    }
                    for f in vocab.FREQUENCIES.values()
                ],
                "routes": [{"code": c, "label": label} for c, label in vocab.ROUTES.items()],
                "limits": {
                    "max_items": vocab.MAX_ITEMS,
                    "max_quantity": vocab.MAX_QUANTITY,
                    "max_duration_days": vocab.MAX_DURATION_DAYS,
                    "max_refills": vocab.MAX_REFILLS,
                    "max_refills_controlled": vocab.MAX_REFILLS_CONTROLLED,
                    "prescribe_window_days": vocab.PRESCRIBE_WINDOW_DAYS,
                },
            }
        )


class CheckApi(APIView):
    @extend_schema(request=s.CheckInput, responses={200: s.CheckOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.CheckInput, request.data)
        result = services.check_prescription(
            actor=actor, patient_id=data["patient"], medications=data["medications"]
        )
        return Response(
            {
                "findings": [
                    {
                        "id": f.id,
                        "kind": f.kind,
                        "severity": f.severity,
                        "medications": list(f.medications),
                        "message": f.message,
                        "source": f.source,
                        "requires_override": f.requires_override,
                    }
                    for f in result.findings
                ],
                "no_data": list(result.no_data),
            }
        )


class PrescriptionListApi(APIView):
    @extend_schema(
        operation_id="prescriptions_list",
        parameters=[s.ListInput],
        responses={200: s.PrescriptionListOutput},
    )
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.ListInput, request.query_params)
        views = services.list_prescriptions(
            actor=actor, patient_id=data.get("patient"), status=data.get("status")
        )
        return Response({"results": render(views)})

    @extend_schema(request=s.CreateInput, responses={201: s.PrescriptionOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.CreateInput, request.data)
        prescription = services.issue_prescription(
            actor=actor,
            patient_id=data["patient"],
            appointment_id=data["appointment"],
            items=[dict(i) for i in data["items"]],
            overrides=[dict(o) for o in data["overrides"]],
            password=data["password"],
            otp=data["otp"],
        )
        return Response(_one(actor, prescription.id), status=status.HTTP_201_CREATED)


class PrescriptionDetailApi(APIView):
    @extend_schema(responses={200: s.PrescriptionOutput})
    def get(self, request: Request, prescription_id: UUID) -> Response:
        return Response(_one(_user(request), prescription_id))


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class PrescriptionPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, prescription_id: UUID) -> HttpResponse:
        doc = services.export_document(
            actor=_user(request), prescription_id=prescription_id, kind="pdf"
        )
        return _download(render_pdf(doc), "application/pdf", "careconnect-prescription.pdf")


class PrescriptionFhirApi(APIView):
    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, prescription_id: UUID) -> HttpResponse:
        doc = services.export_document(
            actor=_user(request), prescription_id=prescription_id, kind="fhir"
        )
        response = HttpResponse(json.dumps(fhir_bundle(doc)), content_type="application/fhir+json")
        response["Cache-Control"] = "no-store"
        return response


class CancelApi(APIView):
    @extend_schema(request=s.ReasonInput, responses={200: s.PrescriptionOutput})
    def post(self, request: Request, prescription_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.ReasonInput, request.data)
        services.cancel_prescription(
            actor=actor, prescription_id=prescription_id, reason=data["reason"]
        )
        return Response(_one(actor, prescription_id))


class RefillRequestApi(APIView):
    @extend_schema(request=None, responses={201: s.PrescriptionOutput})
    def post(self, request: Request, prescription_id: UUID) -> Response:
        actor = _user(request)
        services.request_refill(actor=actor, prescription_id=prescription_id)
        return Response(_one(actor, prescription_id), status=status.HTTP_201_CREATED)


class ApproveRefillApi(APIView):
    @extend_schema(request=s.ReauthInput, responses={201: s.PrescriptionOutput})
    def post(self, request: Request, refill_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.ReauthInput, request.data)
        new = services.approve_refill(
            actor=actor, refill_id=refill_id, password=data["password"], otp=data["otp"]
        )
        return Response(_one(actor, new.id), status=status.HTTP_201_CREATED)


class DeclineRefillApi(APIView):
    @extend_schema(request=s.ReasonInput, responses={200: s.PrescriptionOutput})
    def post(self, request: Request, refill_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.ReasonInput, request.data)
        refill = services.decline_refill(actor=actor, refill_id=refill_id, reason=data["reason"])
        return Response(_one(actor, refill.prescription_id))


class SendApi(APIView):
    @extend_schema(request=s.PharmacySendInput, responses={201: s.PrescriptionOutput})
    def post(self, request: Request, prescription_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.PharmacySendInput, request.data)
        services.send_to_pharmacy(
            actor=actor, prescription_id=prescription_id, pharmacy_id=data["pharmacy"]
        )
        return Response(_one(actor, prescription_id), status=status.HTTP_201_CREATED)


class RemindersApi(APIView):
    @extend_schema(request=s.RemindersInput, responses={200: s.PrescriptionOutput})
    def post(self, request: Request, prescription_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.RemindersInput, request.data)
        services.set_reminders(
            actor=actor,
            prescription_id=prescription_id,
            enabled=data["enabled"],
            timezone_name=data["timezone"],
        )
        return Response(_one(actor, prescription_id))


class VerifyApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "verify"

    @extend_schema(parameters=[s.VerifyInput], responses={200: s.VerifyOutput})
    def get(self, request: Request) -> Response:
        data = _valid(s.VerifyInput, request.query_params)
        return Response(s.VerifyOutput(services.verify_code(code=data["code"])).data)


class PharmacyListApi(APIView):
    @extend_schema(parameters=[s.PharmacySearchInput], responses={200: s.PharmacyListOutput})
    def get(self, request: Request) -> Response:
        _user(request)
        data = _valid(s.PharmacySearchInput, request.query_params)
        found = selectors.search_pharmacies(q=data["q"], city=data["city"])
        return Response({"results": [_pharmacy(p) for p in found]})


class PreferredPharmacyApi(APIView):
    @extend_schema(parameters=[s.PreferredQuery], responses={200: s.PreferredOutput})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PreferredQuery, request.query_params)
        found = services.read_preferred_pharmacy(actor=actor, patient_id=data.get("patient"))
        return Response({"pharmacy": _pharmacy(found) if found else None})

    @extend_schema(request=s.PreferredInput, responses={200: s.PreferredOutput})
    def put(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PreferredInput, request.data)
        found = services.set_preferred_pharmacy(
            actor=actor, pharmacy_id=data["pharmacy"], patient_id=data.get("patient")
        )
        return Response({"pharmacy": _pharmacy(found)})


class PharmacyInboxApi(APIView):
    """A pharmacy's download page (no account: the signed token in the emailed link)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "verify"

    @extend_schema(responses={200: s.PharmacyInboxOutput})
    def get(self, request: Request, token: str) -> Response:
        send, doc = services.open_pharmacy_inbox(token=token, kind="view")
        return Response(
            s.PharmacyInboxOutput(
                {
                    "pharmacy": send.pharmacy.name,
                    "verification_code": doc.verification_code,
                    "status": doc.status,
                    "issued_at": doc.issued_at,
                    "expires_at": doc.expires_at,
                    "doctor_name": doc.prescriber.name,
                    "pdf_url": f"/api/pharmacy-inbox/{token}/pdf/",
                    "fhir_url": f"/api/pharmacy-inbox/{token}/fhir/",
                }
            ).data
        )


class PharmacyInboxPdfApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "verify"

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, token: str) -> HttpResponse:
        _, doc = services.open_pharmacy_inbox(token=token, kind="pdf")
        return _download(render_pdf(doc), "application/pdf", "careconnect-prescription.pdf")


class PharmacyInboxFhirApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedThrottle]
    throttle_scope = "verify"

    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, token: str) -> HttpResponse:
        _, doc = services.open_pharmacy_inbox(token=token, kind="fhir")
        response = HttpResponse(json.dumps(fhir_bundle(doc)), content_type="application/fhir+json")
        response["Cache-Control"] = "no-store"
        return response
