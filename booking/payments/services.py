"""Payment writes: booking fees and bills, checkout, applying a gateway's state, refunds,
hold expiry and reconciliation. Each public function is one transaction (or runs inside the
booking transaction that calls it) and one audit record.

The gateway is the source of truth about money: `_apply_intent` reads an intent's state
and moves our record forward to match it, and only forward (`pending` → `paid` →
`partially_refunded` → `refunded`). Applying the same state twice, or states out of order,
changes nothing the second time, which is what makes webhooks safe to replay. Refunds are
keyed by the gateway's refund id (unique), and every refund we ask for carries an
idempotency key, so a retried call never refunds twice.

Lock order, as booking's: appointment → slot → payment → conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from booking import selectors as booking_selectors
from booking.models import Appointment, Hold, Mode, Slot
from booking.payments.base import (
    GatewayError,
    IntentState,
    IntentStatus,
    PaymentGateway,
    from_minor,
    to_minor,
)
from booking.payments.dev import DevGateway
from booking.payments.models import (
    PAYABLE,
    SETTLED,
    GatewayEvent,
    Payment,
    PaymentStatus,
    Refund,
)
from booking.tasks import release_lapsed_hold_task
from careconnect.accounts.access import resolve_patient_access
from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import CareRelationship, DoctorProfile, Role, RoleAssignment, User
from careconnect.audit.services import record
from careconnect.crypto.services import open_json, seal_json
from careconnect.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from careconnect.notifications import services as notifications
from careconnect.notifications.models import Kind
from careconnect.notifications.services import app_link
from chat.models import CardState, Conversation
from chat.registry import ActionResult
from chat.services import (
    ensure_care_team_conversation,
    ensure_conversation,
    post_card,
    update_cards,
)

logger = logging.getLogger(__name__)

CARD = "booking.request_payment"
MAX_BILL_ITEMS = 20


class AmountMismatchError(InvalidInputError):
    code = "amount_mismatch"
    default_message = "The amount or currency does not match what is due; the server decides it."


class NotPayableError(ConflictError):
    code = "not_payable"
    default_message = "This bill cannot be paid now."


class AlreadyPaidError(ConflictError):
    code = "already_paid"
    default_message = "This bill is already paid."


class RefundTooLargeError(InvalidInputError):
    code = "refund_too_large"
    default_message = "That is more than what is left to refund."


class NothingToRefundError(ConflictError):
    code = "nothing_to_refund"
    default_message = "There is nothing left to refund on this payment."


class GatewayUnavailableError(ApplicationError):
    code = "gateway_unavailable"
    status = 502
    default_message = "The payment service did not answer. Nothing was charged; try again."


class WrongGatewayError(NotFoundError):
    default_message = "Not found."


# ------------------------------------------------------------------ gateway


def gateway() -> PaymentGateway:
    if settings.PAYMENT_GATEWAY == "stripe":
        from booking.payments.stripe_gw import StripeGateway

        return StripeGateway()
    return DevGateway()


def dev_gateway() -> DevGateway:
    if settings.PAYMENT_GATEWAY != "dev":
        raise WrongGatewayError()
    return DevGateway()


# ------------------------------------------------------------------ sealed items


def _items_aad(payment_id: UUID) -> str:
    return f"booking.payment.items:{payment_id}"


def open_items(payment: Payment) -> list[dict[str, Any]]:
    """The bill's lines (PHI: what the care was). Callers audit the read."""
    if payment.patient.data_key_id is None:
        return []
    items = open_json(payment.patient.data_key_id, payment.items_sealed, aad=_items_aad(payment.id))
    return cast(list[dict[str, Any]], items or [])


def _seal_items(payment: Payment, items: list[dict[str, Any]]) -> None:
    key = ensure_data_key(payment.patient)
    payment.items_sealed = seal_json(key, items, aad=_items_aad(payment.id))


def money(amount: Decimal | str, currency: str) -> dict[str, str]:
    return {"amount": f"{Decimal(amount):.2f}", "currency": currency}


# ------------------------------------------------------------------ cards


CARD_STATES: dict[str, str] = {
    PaymentStatus.PENDING: CardState.OPEN,
    PaymentStatus.REQUIRES_ACTION: CardState.OPEN,
    PaymentStatus.FAILED: CardState.FAILED,
    PaymentStatus.PAID: CardState.COMPLETED,
    PaymentStatus.PARTIALLY_REFUNDED: CardState.COMPLETED,
    PaymentStatus.REFUNDED: CardState.COMPLETED,
    PaymentStatus.EXPIRED: CardState.EXPIRED,
    PaymentStatus.CANCELLED: CardState.CANCELLED,
}


def description(payment: Payment) -> str:
    """A display line that is not health data: who the money is for."""
    if payment.kind == Payment.Kind.BOOKING and payment.appointment is not None:
        appointment = payment.appointment
        what = "Online consult" if appointment.mode == Mode.ONLINE else "In-person visit"
        return f"{what} with Dr {appointment.doctor.user.full_name}"
    return f"Bill from {payment.center.name}"


def payment_card(payment: Payment) -> dict[str, Any]:
    return {
        "payment": str(payment.id),
        "amount": money(payment.amount, payment.currency),
        "amount_refunded": money(payment.amount_refunded, payment.currency),
        "status": payment.status,
        "due_by": payment.due_by.isoformat() if payment.due_by else None,
        "appointment": str(payment.appointment_id) if payment.appointment_id else None,
        "description": description(payment),
        "last_error": payment.last_error,
    }


def _refresh_cards(payment: Payment) -> None:
    update_cards(target=payment, state=CARD_STATES[payment.status], payload=payment_card(payment))


def _card_conversation(payment: Payment, actor: User | None) -> Conversation:
    """Where a bill's card goes: the patient's conversation with the doctor concerned (the
    appointment's, or the billing doctor), else the center's care-team conversation."""
    doctor: DoctorProfile | None = None
    if payment.appointment is not None:
        doctor = payment.appointment.doctor
    elif actor is not None:
        doctor = DoctorProfile.objects.filter(user=actor, center_id=payment.center_id).first()
    if doctor is not None:
        conversation, _ = ensure_conversation(patient=payment.patient, doctor=doctor)
    else:
        conversation, _ = ensure_care_team_conversation(
            patient=payment.patient, center=payment.center
        )
    return conversation


def _item_lines(items: list[dict[str, Any]], currency: str) -> str:
    return "\n".join(f"{item['description']}: {item['amount']} {currency}" for item in items)


# ------------------------------------------------------------------ booking fees


def booking_fee(doctor: DoctorProfile, mode: str) -> Decimal | None:
    fee = doctor.fee_online if mode == Mode.ONLINE else doctor.fee_in_person
    return fee if fee is not None and fee > 0 else None


def charge_for_booking(
    *, appointment: Appointment, actor: User, fee: Decimal, hold: bool, post: bool = True
) -> Payment:
    """The booking fee of a new appointment (inside the booking's transaction). With `hold`
    the slot is held for the patient for the center's `payment_hold_minutes` while the
    appointment awaits payment; staff bookings get the bill without a hold. The payment card
    goes to the patient-doctor conversation (unless the caller's chat card posts it)."""
    now = timezone.now()
    doctor = appointment.doctor
    payment = Payment(
        patient=appointment.patient,
        center_id=doctor.center_id,
        appointment=appointment,
        kind=Payment.Kind.BOOKING,
        created_by=actor,
        amount=fee,
        currency=doctor.currency.upper(),
    )
    _seal_items(payment, _booking_lines(appointment, fee))
    if hold:
        minutes = booking_selectors.policy_for(doctor.center_id).payment_hold_minutes
        slot_hold = Hold.objects.create(
            slot_id=appointment.slot_id,
            patient=appointment.patient,
            purpose=Hold.Purpose.PAYMENT,
            expires_at=now + timedelta(minutes=minutes),
        )
        payment.hold, payment.due_by = slot_hold, slot_hold.expires_at
        transaction.on_commit(
            partial(
                release_lapsed_hold_task.apply_async,
                args=(str(slot_hold.id),),
                eta=slot_hold.expires_at,
            )
        )
    payment.save(force_insert=True)
    record(
        actor=actor,
        action="payment.create",
        object_type="booking.payment",
        object_id=payment.id,
        patient=payment.patient,
        detail={"appointment": str(appointment.id), "amount": str(fee), "hold": hold},
    )
    if post:
        post_card(
            conversation=_card_conversation(payment, actor),
            name=CARD,
            result=ActionResult(payment_card(payment), payment, CARD_STATES[payment.status]),
        )
    return payment


def _booking_lines(appointment: Appointment, fee: Decimal) -> list[dict[str, Any]]:
    zone = booking_selectors.center_zone(appointment.doctor.center)
    when = timezone.localtime(appointment.start, zone)
    what = "Online consult" if appointment.mode == Mode.ONLINE else "In-person visit"
    line = f"{what} with Dr {appointment.doctor.user.full_name}, {when:%d %b %Y %H:%M}"
    return [{"description": line, "amount": f"{fee:.2f}"}]


class FeeChangesError(ConflictError):
    code = "fee_changes"
    default_message = (
        "Online and in-person visits have different fees: cancel this appointment and book "
        "the other kind instead."
    )


def booking_payment(appointment: Appointment) -> Payment | None:
    return Payment.objects.filter(appointment=appointment, kind=Payment.Kind.BOOKING).first()


def move_hold(*, appointment: Appointment, slot: Slot) -> None:
    """Inside a reschedule (`appointment` carries its new time and mode, not yet saved): the
    fee must stay the same (else 409 `fee_changes`); an unpaid booking keeps its hold, on the
    new slot; the bill's line names the new time."""
    payment = booking_payment(appointment)
    if payment is None or payment.status in (PaymentStatus.CANCELLED, PaymentStatus.EXPIRED):
        return
    if booking_fee(appointment.doctor, appointment.mode) != payment.amount:
        raise FeeChangesError()
    if payment.hold_id is not None:
        Hold.objects.filter(id=payment.hold_id, released_at__isnull=True).update(slot=slot)
    _seal_items(payment, _booking_lines(appointment, payment.amount))
    payment.save(update_fields=["items_sealed", "updated_at"])


# ------------------------------------------------------------------ bills


@dataclass(frozen=True, slots=True)
class BillItem:
    description: str
    amount: Decimal


def _staff_center_for(actor: User, patient: User, center_id: UUID | None) -> UUID:
    """The center a staff member bills from: theirs, where the patient is known."""
    centers = set(
        RoleAssignment.objects.filter(
            user=actor, role__in=[Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN]
        ).values_list("center_id", flat=True)
    )
    centers.discard(None)
    if not centers:
        raise PermissionDeniedError("Only a doctor, nurse or center admin can send a bill.")
    if center_id is not None:
        if center_id not in centers:
            raise NotFoundError("That center is not yours.")
        centers = {center_id}
    known = set(
        CareRelationship.objects.filter(
            patient=patient, clinician__role_assignments__center_id__in=centers
        ).values_list("clinician__role_assignments__center_id", flat=True)
    ) | set(
        Appointment.objects.filter(patient=patient, doctor__center_id__in=centers).values_list(
            "doctor__center_id", flat=True
        )
    )
    known &= centers
    if not known:
        raise NotFoundError("That patient is not known to your center.")
    if len(known) > 1:
        raise InvalidInputError(center=["Choose the center this bill is from."])
    return known.pop()


def create_bill(
    *,
    actor: User,
    patient_id: UUID,
    items: list[BillItem],
    currency: str,
    center_id: UUID | None = None,
    post: bool = True,
) -> Payment:
    """Staff bill a patient (a follow-up consult, say). Inside a transaction: the chat action
    calls it under its conversation lock; `create_bill_now` is the REST entry."""
    if not items:
        raise InvalidInputError(items=["Add at least one line."])
    if len(items) > MAX_BILL_ITEMS:
        raise InvalidInputError(items=[f"At most {MAX_BILL_ITEMS} lines."])
    patient = User.objects.filter(id=patient_id, is_active=True).first()
    if patient is None:
        raise NotFoundError("That patient is not known to your center.")
    center = _staff_center_for(actor, patient, center_id)
    total = sum((item.amount for item in items), Decimal(0))
    if total <= 0:
        raise InvalidInputError(items=["The total must be more than zero."])
    payment = Payment(
        patient=patient,
        center_id=center,
        kind=Payment.Kind.BILL,
        created_by=actor,
        amount=total,
        currency=currency.upper(),
    )
    lines = [{"description": i.description, "amount": f"{i.amount:.2f}"} for i in items]
    _seal_items(payment, lines)
    payment.save(force_insert=True)
    record(
        actor=actor,
        action="payment.bill",
        object_type="booking.payment",
        object_id=payment.id,
        patient=patient,
        detail={"amount": str(total), "currency": payment.currency, "lines": len(items)},
    )
    if post:
        post_card(
            conversation=_card_conversation(payment, actor),
            name=CARD,
            result=ActionResult(
                payment_card(payment),
                payment,
                CardState.OPEN,
                body=_item_lines(lines, payment.currency),
            ),
            sender=actor,
        )
    return payment


@transaction.atomic
def create_bill_now(**kwargs: Any) -> Payment:
    return create_bill(**kwargs)


def bill_lines(items: list[BillItem], currency: str) -> str:
    return _item_lines(
        [{"description": i.description, "amount": f"{i.amount:.2f}"} for i in items], currency
    )


# ------------------------------------------------------------------ access


@dataclass(frozen=True, slots=True)
class PaymentAccess:
    payment: Payment
    staff: bool
    acting_for: bool


def _lock_payment(payment_id: UUID | str) -> Payment:
    try:
        return (
            Payment.objects.select_for_update(of=("self",))
            .select_related("patient", "center", "appointment__doctor__user")
            .get(id=payment_id)
        )
    except (Payment.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def _access(actor: User, payment: Payment, *, scope: str = "pay") -> PaymentAccess:
    """The patient, a family member with the `pay` scope, or staff of the billing center;
    404 for anyone else."""
    if booking_selectors.is_center_staff(actor, payment.center_id):
        return PaymentAccess(payment, staff=True, acting_for=False)
    access = resolve_patient_access(actor=actor, patient_id=payment.patient_id, scope=scope)
    return PaymentAccess(payment, staff=False, acting_for=access.acting_for)


def _lock_for(actor: User, payment_id: UUID) -> PaymentAccess:
    """Lock a payment the actor may handle, its appointment first (the lock order)."""
    found = Payment.objects.filter(id=payment_id).values_list("appointment_id", flat=True).first()
    appointment_id = found if found else None
    if appointment_id is not None:
        booking_selectors.lock_appointment(appointment_id=appointment_id)
    payment = _lock_payment(payment_id)
    return _access(actor, payment)


def read_payment(*, actor: User, payment_id: UUID) -> tuple[PaymentAccess, list[dict[str, Any]]]:
    payment = (
        Payment.objects.select_related("patient", "center", "appointment__doctor__user")
        .filter(id=payment_id)
        .first()
    )
    if payment is None:
        raise NotFoundError()
    access = _access(actor, payment)
    items = open_items(payment)
    record(
        actor=actor,
        action="payment.read",
        object_type="booking.payment",
        object_id=payment.id,
        patient=payment.patient,
        acting_for=payment.patient if access.acting_for else None,
    )
    return access, items


def payments_visible_to(*, actor: User, patient_id: UUID | None) -> tuple[QuerySet[Payment], bool]:
    """A patient's bills (their own, or a patient they may pay for), or, for staff without a
    patient named, their centers' bills. Returns the rows and whether the viewer is staff."""
    rows = Payment.objects.select_related("patient", "center", "appointment__doctor__user")
    if patient_id is None:
        centers = RoleAssignment.objects.filter(
            user=actor, role__in=[Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN]
        ).values("center_id")
        if centers.exists():
            return rows.filter(Q(center_id__in=centers) | Q(patient=actor)), True
        return rows.filter(patient=actor), False
    access = resolve_patient_access(actor=actor, patient_id=patient_id, scope="pay")
    return rows.filter(patient=access.patient), False


def read_items_of(*, actor: User, payments: list[Payment]) -> dict[UUID, list[dict[str, Any]]]:
    """Open the lines of a list of bills, auditing one read per patient."""
    items = {p.id: open_items(p) for p in payments}
    for patient_id in {p.patient_id for p in payments}:
        patient = next(p.patient for p in payments if p.patient_id == patient_id)
        record(
            actor=actor,
            action="payment.list_read",
            object_type="booking.payment",
            patient=patient,
            acting_for=patient if patient_id != actor.id and not _is_staff(actor) else None,
            detail={"payments": [str(p.id) for p in payments if p.patient_id == patient_id]},
        )
    return items


def _is_staff(actor: User) -> bool:
    return RoleAssignment.objects.filter(
        user=actor, role__in=[Role.DOCTOR, Role.NURSE, Role.CENTER_ADMIN]
    ).exists()


# ------------------------------------------------------------------ checkout


def _check_expected(payment: Payment, expected: dict[str, Any] | None) -> None:
    if not expected:
        return
    amount, currency = expected.get("amount"), str(expected.get("currency", "")).upper()
    if Decimal(str(amount)) != payment.amount or currency != payment.currency:
        raise AmountMismatchError(
            amount=[f"{payment.amount:.2f} {payment.currency} is due on this bill."]
        )


def _ensure_intent(payment: Payment) -> IntentState:
    """The bill's one intent at the gateway, created on first checkout (idempotent by the
    payment's id: a retry after a timeout gets the same intent)."""
    gw = gateway()
    try:
        if payment.intent_id:
            return gw.retrieve_intent(payment.intent_id)
        intent = gw.create_intent(
            amount=to_minor(payment.amount, payment.currency),
            currency=payment.currency.lower(),
            idempotency_key=f"careconnect-payment-{payment.id}",
            metadata={"payment": str(payment.id)},
        )
    except GatewayError as exc:
        logger.warning("payment gateway failed on checkout of %s: %s", payment.id, exc)
        raise GatewayUnavailableError() from exc
    payment.intent_id, payment.gateway = intent.id, gw.name
    payment.save(update_fields=["intent_id", "gateway", "updated_at"])
    return intent


def _check_payer(actor: User, access: PaymentAccess) -> None:
    """The patient or a family member with `pay` pays; center staff see bills but do not pay
    them with a card in someone else's name."""
    if not access.staff or access.payment.patient_id == actor.id:
        return
    try:
        resolve_patient_access(actor=actor, patient_id=access.payment.patient_id, scope="pay")
    except ApplicationError as exc:
        raise PermissionDeniedError(
            "The patient, or family with the pay scope, pays this bill."
        ) from exc


def _expire_if_lapsed(payment_id: UUID) -> None:
    """A booking fee whose hold lapsed is expired now (its own transaction, committed), even
    if the beat sweep has not come round yet: the time is no longer held."""
    row = Payment.objects.filter(id=payment_id).values_list("hold_id", "due_by", "status").first()
    if row is None:
        return
    hold_id, due_by, status = row
    if hold_id and due_by and due_by <= timezone.now() and status in PAYABLE:
        from booking.services import release_lapsed_hold

        release_lapsed_hold(hold_id=hold_id)


def start_checkout(
    *, actor: User, payment_id: UUID, expected: dict[str, Any] | None = None
) -> tuple[Payment, IntentState, dict[str, str]]:
    _expire_if_lapsed(payment_id)
    return _start_checkout(actor=actor, payment_id=payment_id, expected=expected)


@transaction.atomic
def _start_checkout(
    *, actor: User, payment_id: UUID, expected: dict[str, Any] | None
) -> tuple[Payment, IntentState, dict[str, str]]:
    access = _lock_for(actor, payment_id)
    _check_payer(actor, access)
    payment = access.payment
    _check_expected(payment, expected)
    if payment.status in SETTLED:
        raise AlreadyPaidError()
    if payment.status not in PAYABLE:
        raise NotPayableError(f"This bill is {payment.get_status_display().lower()}.")
    intent = _ensure_intent(payment)
    _apply_intent(payment, intent)
    record(
        actor=actor,
        action="payment.checkout",
        object_type="booking.payment",
        object_id=payment.id,
        patient=payment.patient,
        acting_for=payment.patient if access.acting_for else None,
    )
    return payment, intent, gateway().client_config()


def _payable_with_intent(actor: User, payment_id: UUID) -> tuple[PaymentAccess, str]:
    access = _lock_for(actor, payment_id)
    _check_payer(actor, access)
    payment = access.payment
    if payment.status in SETTLED:
        raise AlreadyPaidError()
    if payment.status not in PAYABLE:
        raise NotPayableError(f"This bill is {payment.get_status_display().lower()}.")
    intent = _ensure_intent(payment)
    return access, intent.id


def dev_pay(
    *, actor: User, payment_id: UUID, card_number: str, expected: dict[str, Any] | None = None
) -> Payment:
    """The dev gateway's checkout page submits the card here."""
    _expire_if_lapsed(payment_id)
    return _dev_pay(actor=actor, payment_id=payment_id, card_number=card_number, expected=expected)


@transaction.atomic
def _dev_pay(
    *, actor: User, payment_id: UUID, card_number: str, expected: dict[str, Any] | None
) -> Payment:
    dev = dev_gateway()
    access, intent_id = _payable_with_intent(actor, payment_id)
    _check_expected(access.payment, expected)
    state = dev.confirm_card(intent_id, card_number=card_number)
    _apply_intent(access.payment, state)
    _audit_attempt(actor, access, state)
    return access.payment


def dev_authenticate(*, actor: User, payment_id: UUID, approve: bool) -> Payment:
    _expire_if_lapsed(payment_id)
    return _dev_authenticate(actor=actor, payment_id=payment_id, approve=approve)


@transaction.atomic
def _dev_authenticate(*, actor: User, payment_id: UUID, approve: bool) -> Payment:
    dev = dev_gateway()
    access, intent_id = _payable_with_intent(actor, payment_id)
    state = dev.authenticate(intent_id, approve=approve)
    _apply_intent(access.payment, state)
    _audit_attempt(actor, access, state)
    return access.payment


def _audit_attempt(actor: User, access: PaymentAccess, state: IntentState) -> None:
    record(
        actor=actor,
        action="payment.attempt",
        object_type="booking.payment",
        object_id=access.payment.id,
        patient=access.payment.patient,
        acting_for=access.payment.patient if access.acting_for else None,
        detail={"result": state.status, "declined": bool(state.last_error)},
    )


@transaction.atomic
def sync_payment(*, actor: User, payment_id: UUID) -> Payment:
    """The web app asks after Stripe.js confirmed: read the intent now, not at the webhook."""
    access = _lock_for(actor, payment_id)
    payment = access.payment
    if payment.intent_id:
        try:
            _apply_intent(payment, gateway().retrieve_intent(payment.intent_id))
        except GatewayError as exc:
            raise GatewayUnavailableError() from exc
    return payment


# ------------------------------------------------------------------ applying gateway state


def _apply_intent(payment: Payment, intent: IntentState) -> bool:
    """Move `payment` (locked) forward to what the gateway says. Idempotent and order-free:
    each branch only acts when our state is behind the gateway's. Returns whether it changed."""
    changed = False
    now = timezone.now()
    if intent.status == IntentStatus.SUCCEEDED and payment.status not in SETTLED:
        was_live = payment.status in PAYABLE
        payment.status, payment.paid_at, payment.last_error = PaymentStatus.PAID, now, ""
        payment.late = not was_live
        payment.save(update_fields=["status", "paid_at", "last_error", "late", "updated_at"])
        record(
            actor=None,
            action="payment.paid",
            object_type="booking.payment",
            object_id=payment.id,
            patient=payment.patient,
            detail={"intent": intent.id, "late": payment.late},
        )
        _notify_paid(payment)
        if was_live:
            _booking_paid(payment, now)
        changed = True
    elif intent.status == IntentStatus.REQUIRES_ACTION and payment.status in PAYABLE:
        if payment.status != PaymentStatus.REQUIRES_ACTION:
            payment.status, payment.last_error = PaymentStatus.REQUIRES_ACTION, ""
            payment.save(update_fields=["status", "last_error", "updated_at"])
            changed = True
    elif (
        intent.status == IntentStatus.REQUIRES_PAYMENT_METHOD
        and intent.last_error
        and payment.status in PAYABLE
        and (payment.status, payment.last_error) != (PaymentStatus.FAILED, intent.last_error)
    ):
        payment.status, payment.last_error = PaymentStatus.FAILED, intent.last_error[:300]
        payment.save(update_fields=["status", "last_error", "updated_at"])
        changed = True
    changed = _apply_refunds(payment, intent) or changed
    left = payment.amount - payment.amount_refunded
    if payment.late and payment.status in SETTLED and left > 0:
        # Money that arrived after the hold lapsed is not kept: refund what is left, once
        # (part of it may have been refunded at the gateway already).
        _refund(payment, left, reason="Paid after the booking lapsed", actor=None)
        changed = True
    if changed:
        _refresh_cards(payment)
    return changed


def _apply_refunds(payment: Payment, intent: IntentState) -> bool:
    known = set(payment.refunds.values_list("gateway_refund_id", flat=True))
    new = [r for r in intent.refunds if r.id not in known and r.status in ("succeeded", "pending")]
    for refund in new:
        Refund.objects.create(
            payment=payment,
            amount=from_minor(refund.amount, payment.currency),
            gateway_refund_id=refund.id,
            reason="Refunded at the payment service",
        )
    if new:
        _settle_refunded(payment)
    return bool(new)


def _settle_refunded(payment: Payment) -> None:
    total = sum((r.amount for r in payment.refunds.all()), Decimal(0))
    before = payment.amount_refunded
    payment.amount_refunded = min(total, payment.amount)
    if payment.amount_refunded > before:
        _notify_refunded(payment, payment.amount_refunded - before)
    if payment.status in SETTLED or payment.status == PaymentStatus.PAID:
        payment.status = (
            PaymentStatus.REFUNDED
            if payment.amount_refunded >= payment.amount
            else PaymentStatus.PARTIALLY_REFUNDED
            if payment.amount_refunded > 0
            else PaymentStatus.PAID
        )
    payment.save(update_fields=["amount_refunded", "status", "updated_at"])
    record(
        actor=None,
        action="payment.refunded",
        object_type="booking.payment",
        object_id=payment.id,
        patient=payment.patient,
        detail={"amount_refunded": str(payment.amount_refunded)},
    )


def _booking_paid(payment: Payment, now: datetime) -> None:
    """A paid booking fee confirms its appointment and lets go of the hold."""
    if payment.hold_id is not None:
        Hold.objects.filter(id=payment.hold_id, released_at__isnull=True).update(released_at=now)
    appointment = payment.appointment
    if appointment is None or appointment.status != Appointment.Status.AWAITING_PAYMENT:
        return
    policy = booking_selectors.policy_for(appointment.doctor.center_id)
    appointment.status = (
        Appointment.Status.REQUESTED
        if policy.requires_confirmation
        else Appointment.Status.CONFIRMED
    )
    appointment.save(update_fields=["status", "updated_at"])
    from booking.services import notify_confirmed, refresh_appointment_cards

    refresh_appointment_cards(appointment)
    if appointment.status == Appointment.Status.CONFIRMED:
        notify_confirmed(appointment)


# ------------------------------------------------------------------ notices (no bill lines)


def _notify_paid(payment: Payment) -> None:
    amount = money(payment.amount, payment.currency)
    notifications.notify(
        recipient=payment.patient,
        kind=Kind.PAYMENT,
        event="payment_received",
        key=f"payment.paid:{payment.id}",
        title=f"Payment received: {amount['amount']} {amount['currency']}",
        body=(
            f"We received your payment of {amount['amount']} {amount['currency']} to "
            f"{payment.center.name}. Your receipt is in the app."
        ),
        link=app_link("/payments"),
        center_id=payment.center_id,
        subject=("booking.payment", payment.id),
    )


def _notify_refunded(payment: Payment, amount: Decimal) -> None:
    shown = money(amount, payment.currency)
    total = to_minor(payment.amount_refunded, payment.currency)
    notifications.notify(
        recipient=payment.patient,
        kind=Kind.PAYMENT,
        event="payment_refunded",
        key=f"payment.refunded:{payment.id}:{total}",
        title=f"Refund: {shown['amount']} {shown['currency']}",
        body=(
            f"{payment.center.name} refunded {shown['amount']} {shown['currency']} of your "
            "payment. It can take a few days to reach your account; details are in the app."
        ),
        link=app_link("/payments"),
        center_id=payment.center_id,
        subject=("booking.payment", payment.id),
    )


# ------------------------------------------------------------------ refunds


def _refund(payment: Payment, amount: Decimal, *, reason: str, actor: User | None) -> Refund:
    """Refund `amount` of a settled payment (locked) at the gateway and record it. The
    idempotency key is the payment's refunded total so far: a retry of this very refund
    (a timeout, a rolled-back transaction) gets the gateway's first answer back."""
    left = payment.amount - payment.amount_refunded
    if left <= 0:
        raise NothingToRefundError()
    if amount <= 0 or amount > left:
        raise RefundTooLargeError(amount=[f"At most {left:.2f} {payment.currency} is left."])
    if not payment.intent_id:
        raise NothingToRefundError()
    try:
        answer = gateway().refund(
            payment.intent_id,
            amount=to_minor(amount, payment.currency),
            idempotency_key=(
                f"careconnect-refund-{payment.id}-{to_minor(payment.amount_refunded, payment.currency)}"
            ),
        )
    except GatewayError as exc:
        logger.warning("refund of payment %s failed at the gateway: %s", payment.id, exc)
        raise GatewayUnavailableError("The refund could not be made now; try again.") from exc
    refund, _ = Refund.objects.get_or_create(
        gateway_refund_id=answer.id,
        defaults={
            "payment": payment,
            "amount": from_minor(answer.amount, payment.currency),
            "reason": reason[:200],
            "created_by": actor,
        },
    )
    _settle_refunded(payment)
    record(
        actor=actor,
        action="payment.refund",
        object_type="booking.payment",
        object_id=payment.id,
        patient=payment.patient,
        detail={"amount": str(refund.amount), "reason": reason[:200], "refund": answer.id},
    )
    return refund


@transaction.atomic
def refund_payment(
    *,
    actor: User,
    payment_id: UUID,
    amount: Decimal | None,
    reason: str,
    currency: str | None = None,
) -> Payment:
    """Staff refund (some of) a payment."""
    access = _lock_for(actor, payment_id)
    if not access.staff:
        raise PermissionDeniedError("Only the center's staff can refund.")
    payment = access.payment
    if currency is not None and currency.upper() != payment.currency:
        raise AmountMismatchError(amount=[f"This payment is in {payment.currency}."])
    if payment.status not in SETTLED:
        raise NothingToRefundError("This bill has not been paid.")
    _refund(
        payment,
        payment.amount - payment.amount_refunded if amount is None else amount,
        reason=reason or "Refunded by the center",
        actor=actor,
    )
    _refresh_cards(payment)
    return payment


def refund_share(appointment: Appointment, *, by_staff: bool, now: datetime) -> Decimal:
    """The share of the fee a cancellation gives back (0..1), by the center's policy: always
    all when the center cancels; all up to `full_refund_hours` before; then the late share."""
    if by_staff:
        return Decimal(1)
    policy = booking_selectors.policy_for(appointment.doctor.center_id)
    if appointment.start - now >= timedelta(hours=policy.full_refund_hours):
        return Decimal(1)
    return Decimal(policy.late_refund_percent) / 100


def settle_cancellation(*, appointment: Appointment, actor: User, by_staff: bool) -> None:
    """Inside the cancellation's transaction (appointment locked): an unpaid fee is voided;
    a paid one is refunded as the policy says."""
    payment = booking_payment(appointment)
    if payment is None:
        return
    payment = _lock_payment(payment.id)
    now = timezone.now()
    if payment.status in PAYABLE:
        _void(payment, PaymentStatus.CANCELLED, now)
    elif payment.status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
        share = refund_share(appointment, by_staff=by_staff, now=now)
        due = min(
            (payment.amount * share).quantize(Decimal("0.01")),
            payment.amount - payment.amount_refunded,
        )
        if due > 0:
            reason = "Cancelled by the center" if by_staff else "Cancelled by the patient"
            _refund(payment, due, reason=reason, actor=actor)
    _refresh_cards(payment)


def _void(payment: Payment, status: str, now: datetime) -> None:
    """Stop an unpaid bill: cancel its intent at the gateway, so it can no longer be paid.
    If the gateway says it succeeded meanwhile, it is applied (and refunded: it is late)."""
    if payment.hold_id is not None:
        Hold.objects.filter(id=payment.hold_id, released_at__isnull=True).update(released_at=now)
    payment.status = status
    payment.save(update_fields=["status", "updated_at"])
    if payment.intent_id:
        try:
            state = gateway().cancel_intent(
                payment.intent_id, idempotency_key=f"careconnect-cancel-{payment.id}"
            )
        except GatewayError:
            logger.warning("could not cancel intent of payment %s; reconcile will", payment.id)
        else:
            _apply_intent(payment, state)
    _refresh_cards(payment)
    record(
        actor=None,
        action=f"payment.{status}",
        object_type="booking.payment",
        object_id=payment.id,
        patient=payment.patient,
    )


# ------------------------------------------------------------------ hold expiry


def expire_payment_hold(*, hold: Hold) -> bool:
    """A booking's payment hold lapsed (inside a transaction). If the money arrived after all,
    the booking stands; otherwise the appointment is cancelled, the bill expires and the
    slot is free again (offered to the waitlist). Idempotent."""
    payment = Payment.objects.filter(hold=hold).values_list("id", "appointment_id").first()
    if payment is None:
        return False
    payment_id, appointment_id = payment
    appointment = booking_selectors.lock_appointment(appointment_id=appointment_id)
    booking_selectors.lock_slot(slot_id=appointment.slot_id)
    locked = _lock_payment(payment_id)
    now = timezone.now()
    hold.refresh_from_db()
    if hold.released_at is not None or hold.expires_at > now or locked.status not in PAYABLE:
        return False
    if locked.intent_id:
        try:
            _apply_intent(locked, gateway().retrieve_intent(locked.intent_id))
        except GatewayError:
            logger.warning("gateway unreachable at hold expiry of payment %s", locked.id)
        if locked.status not in PAYABLE:
            return False
    _void(locked, PaymentStatus.EXPIRED, now)
    if appointment.status == Appointment.Status.AWAITING_PAYMENT:
        appointment.status = Appointment.Status.CANCELLED
        appointment.cancelled_at = now
        appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
        record(
            actor=None,
            action="appointment.payment_lapsed",
            object_type="booking.appointment",
            object_id=appointment.id,
            patient=appointment.patient,
        )
        from booking.services import offer_freed_slot, refresh_appointment_cards

        refresh_appointment_cards(appointment)
        offer_freed_slot(slot_id=appointment.slot_id)
    return True


# ------------------------------------------------------------------ webhooks and drift


@transaction.atomic
def apply_gateway_event(*, gateway_name: str, event_id: str, type_: str, intent_id: str) -> bool:
    """One webhook event: recorded once by id (a replay is acknowledged and ignored), then
    the intent's current state is read from the gateway and applied. An event about an
    intent we never created is recorded and otherwise ignored."""
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            GatewayEvent.objects.create(
                gateway=gateway_name, event_id=event_id, type=type_, intent_id=intent_id
            )
    except IntegrityError:
        return False
    if not intent_id:
        return True
    found = Payment.objects.filter(intent_id=intent_id).values_list("id", "appointment_id").first()
    if found is None:
        logger.info("gateway event %s for an unknown intent", event_id)
        return True
    payment_id, appointment_id = found
    if appointment_id is not None:
        booking_selectors.lock_appointment(appointment_id=appointment_id)
    payment = _lock_payment(payment_id)
    _apply_intent(payment, gateway().retrieve_intent(intent_id))
    return True


@dataclass(frozen=True, slots=True)
class Drift:
    payment: UUID
    ours: str
    gateway: str
    fixed: bool


def reconcile(*, fix: bool, since: datetime | None = None) -> list[Drift]:
    """Compare each payment that has an intent with the gateway's intent; list where they
    disagree and, with `fix`, apply the gateway's state (each payment its own transaction)."""
    rows = Payment.objects.exclude(intent_id=None).exclude(
        status__in=[PaymentStatus.REFUNDED, PaymentStatus.CANCELLED]
    )
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    drifts: list[Drift] = []
    gw = gateway()
    for payment_id, intent_id, status in rows.values_list("id", "intent_id", "status"):
        intent = gw.retrieve_intent(str(intent_id))
        refunded = sum(r.amount for r in intent.refunds if r.status == "succeeded")
        ours = Payment.objects.get(id=payment_id)
        behind = (
            (intent.status == IntentStatus.SUCCEEDED and status not in SETTLED)
            or (from_minor(refunded, ours.currency) != ours.amount_refunded)
            or (intent.status == IntentStatus.REQUIRES_ACTION and status in PAYABLE
                and status != PaymentStatus.REQUIRES_ACTION)
        )  # fmt: skip
        ahead = status in SETTLED and intent.status != IntentStatus.SUCCEEDED
        if ahead:  # we show money the gateway never took: for a person to look at
            drifts.append(Drift(payment_id, status, intent.status, False))
            continue
        if not behind:
            continue
        fixed = False
        if fix:
            with transaction.atomic():
                appointment_id = ours.appointment_id
                if appointment_id is not None:
                    booking_selectors.lock_appointment(appointment_id=appointment_id)
                fixed = _apply_intent(_lock_payment(payment_id), intent)
        drifts.append(Drift(payment_id, status, intent.status, fixed))
    return drifts
