from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from booking.payments.models import PaymentStatus
from careconnect.api import PlainTextField, StrictSerializer

CURRENCIES = ["USD", "EUR", "GBP", "CHF", "BRL", "CAD"]


from careconnect.accounts.api.serializers import MoneyOutput  # noqa: E402  (API.md's money)


class MoneyInput(StrictSerializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3)


class CenterRef(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ItemOutput(serializers.Serializer[Any]):
    description = serializers.CharField()
    amount = MoneyOutput()


class RefundOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    amount = MoneyOutput()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PaymentOutput(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    patient = serializers.UUIDField()
    patient_name = serializers.CharField()
    center = CenterRef()
    appointment = serializers.UUIDField(allow_null=True)
    conversation = serializers.UUIDField(allow_null=True)
    kind = serializers.ChoiceField(choices=["booking", "bill"])
    description = serializers.CharField()
    items = ItemOutput(many=True)
    amount = MoneyOutput()
    amount_refunded = MoneyOutput()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    due_by = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    refunds = RefundOutput(many=True)
    can_pay = serializers.BooleanField()
    can_refund = serializers.BooleanField()
    receipt_url = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class PaymentListInput(serializers.Serializer[Any]):
    patient = serializers.UUIDField(required=False)


class PaymentListOutput(serializers.Serializer[Any]):
    outstanding = MoneyOutput(many=True)
    payments = PaymentOutput(many=True)


class CheckoutInput(StrictSerializer):
    amount = MoneyInput(required=False, help_text="What the client shows; must match what is due.")


class CheckoutOutput(serializers.Serializer[Any]):
    payment = PaymentOutput()
    gateway = serializers.ChoiceField(choices=["dev", "stripe"])
    client_secret = serializers.CharField()
    publishable_key = serializers.CharField()


class DevConfirmInput(StrictSerializer):
    card_number = serializers.RegexField(r"^[0-9 ]{12,23}$", max_length=23)
    expiry = serializers.RegexField(r"^(0[1-9]|1[0-2])\s*/\s*[0-9]{2}$", required=False)
    cvc = serializers.RegexField(r"^[0-9]{3,4}$", required=False)
    name = PlainTextField(required=False, allow_blank=True, max_length=100)
    amount = MoneyInput(required=False)


class DevAuthenticateInput(StrictSerializer):
    approve = serializers.BooleanField()


class RefundInput(StrictSerializer):
    amount = MoneyInput(required=False, help_text="Default: all that is left.")
    reason = PlainTextField(required=False, allow_blank=True, max_length=200)


class BillItemInput(StrictSerializer):
    description = PlainTextField(max_length=120)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))


class BillInput(StrictSerializer):
    patient = serializers.UUIDField()
    center = serializers.UUIDField(required=False)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    items = serializers.ListField(child=BillItemInput(), min_length=1, max_length=20)
