"""Payment REST adapters: validate, one service call, render."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import selectors as booking_selectors
from booking.payments import receipts, selectors, services
from booking.payments.api import serializers as s
from booking.payments.models import PAYABLE, SETTLED, Payment
from careconnect.accounts.models import User
from careconnect.api import request_user as _user
from careconnect.api import validated as _valid


def _expected(data: dict[str, Any]) -> dict[str, Any] | None:
    amount = data.get("amount")
    return dict(amount) if amount else None


def render(
    payments: list[Payment],
    items: dict[UUID, list[dict[str, Any]]],
    *,
    staff: bool,
    viewer: UUID | None = None,
) -> list[dict[str, Any]]:
    conversations = selectors.card_conversations([p.id for p in payments])
    rows = []
    for p in payments:
        rows.append(
            {
                "id": p.id,
                "patient": p.patient_id,
                "patient_name": p.patient.full_name,
                "center": {"id": p.center_id, "name": p.center.name},
                "appointment": p.appointment_id,
                "conversation": conversations.get(str(p.id)),
                "kind": p.kind,
                "description": services.description(p),
                "items": [
                    {
                        "description": i["description"],
                        "amount": services.money(i["amount"], p.currency),
                    }
                    for i in items.get(p.id, [])
                ],
                "amount": services.money(p.amount, p.currency),
                "amount_refunded": services.money(p.amount_refunded, p.currency),
                "status": p.status,
                "due_by": p.due_by,
                "paid_at": p.paid_at,
                "last_error": p.last_error,
                "refunds": [
                    {
                        "id": r.id,
                        "amount": services.money(r.amount, p.currency),
                        "reason": r.reason,
                        "created_at": r.created_at,
                    }
                    for r in p.refunds.all()
                ],
                "can_pay": p.status in PAYABLE and (not staff or p.patient_id == viewer),
                "can_refund": staff and p.status in SETTLED and p.amount_refunded < p.amount,
                "receipt_url": f"/api/payments/{p.id}/receipt/" if p.status in SETTLED else None,
                "created_at": p.created_at,
            }
        )
    return list(s.PaymentOutput(rows, many=True).data)


def _render_one(actor: User, payment: Payment) -> Any:
    access, items = services.read_payment(actor=actor, payment_id=payment.id)
    return render([access.payment], {payment.id: items}, staff=access.staff, viewer=actor.id)[0]


class PaymentListApi(APIView):
    @extend_schema(
        operation_id="payments_list",
        parameters=[s.PaymentListInput],
        responses={200: s.PaymentListOutput},
    )
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PaymentListInput, request.query_params)
        rows, staff = services.payments_visible_to(actor=actor, patient_id=data.get("patient"))
        payments = list(rows.prefetch_related("refunds")[:200])
        items = services.read_items_of(actor=actor, payments=payments)
        due = selectors.outstanding(payments)
        return Response(
            {
                "outstanding": [services.money(v, c) for c, v in due.items()],
                "payments": render(payments, items, staff=staff, viewer=actor.id),
            }
        )


class PaymentDetailApi(APIView):
    @extend_schema(responses={200: s.PaymentOutput})
    def get(self, request: Request, payment_id: UUID) -> Response:
        actor = _user(request)
        access, items = services.read_payment(actor=actor, payment_id=payment_id)
        return Response(
            render([access.payment], {payment_id: items}, staff=access.staff, viewer=actor.id)[0]
        )


class CheckoutApi(APIView):
    @extend_schema(request=s.CheckoutInput, responses={200: s.CheckoutOutput})
    def post(self, request: Request, payment_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.CheckoutInput, request.data)
        payment, intent, config = services.start_checkout(
            actor=actor, payment_id=payment_id, expected=_expected(data)
        )
        return Response(
            {
                "payment": _render_one(actor, payment),
                "gateway": settings.PAYMENT_GATEWAY,
                "client_secret": intent.client_secret,
                "publishable_key": config.get("publishable_key", ""),
            }
        )


class DevConfirmApi(APIView):
    @extend_schema(request=s.DevConfirmInput, responses={200: s.PaymentOutput})
    def post(self, request: Request, payment_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.DevConfirmInput, request.data)
        payment = services.dev_pay(
            actor=actor,
            payment_id=payment_id,
            card_number=data["card_number"],
            expected=_expected(data),
        )
        return Response(_render_one(actor, payment))


class DevAuthenticateApi(APIView):
    @extend_schema(request=s.DevAuthenticateInput, responses={200: s.PaymentOutput})
    def post(self, request: Request, payment_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.DevAuthenticateInput, request.data)
        payment = services.dev_authenticate(
            actor=actor, payment_id=payment_id, approve=data["approve"]
        )
        return Response(_render_one(actor, payment))


class SyncApi(APIView):
    @extend_schema(request=None, responses={200: s.PaymentOutput})
    def post(self, request: Request, payment_id: UUID) -> Response:
        actor = _user(request)
        payment = services.sync_payment(actor=actor, payment_id=payment_id)
        return Response(_render_one(actor, payment))


class RefundApi(APIView):
    @extend_schema(request=s.RefundInput, responses={200: s.PaymentOutput})
    def post(self, request: Request, payment_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.RefundInput, request.data)
        amount = data.get("amount")
        payment = services.refund_payment(
            actor=actor,
            payment_id=payment_id,
            amount=amount["amount"] if amount else None,
            currency=str(amount["currency"]) if amount else None,
            reason=data.get("reason", ""),
        )
        return Response(_render_one(actor, payment))


class ReceiptApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, payment_id: UUID) -> HttpResponse:
        actor = _user(request)
        access, items = services.read_payment(actor=actor, payment_id=payment_id)
        payment = access.payment
        if payment.status not in SETTLED:
            raise services.NotPayableError("There is no receipt before the bill is paid.")
        zone = booking_selectors.center_zone(payment.center)
        body = receipts.receipt_pdf(payment, items, zone=zone)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="careconnect-receipt.pdf"'
        response["Cache-Control"] = "no-store"
        return response


class BillApi(APIView):
    @extend_schema(request=s.BillInput, responses={201: s.PaymentOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.BillInput, request.data)
        payment = services.create_bill_now(
            actor=actor,
            patient_id=data["patient"],
            center_id=data.get("center"),
            currency=data.get("currency", "USD"),
            items=[services.BillItem(i["description"], i["amount"]) for i in data["items"]],
        )
        return Response(_render_one(actor, payment), status=status.HTTP_201_CREATED)
