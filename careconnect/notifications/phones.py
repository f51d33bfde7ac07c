"""Phone numbers for SMS: verified by a code sent by SMS before any SMS is sent to them;
stored sealed with the person's data key, found by a keyed hash (inbound replies)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from careconnect.accounts.keys import ensure_data_key
from careconnect.accounts.models import User
from careconnect.crypto.services import open_sealed, seal
from careconnect.errors import ConflictError, InvalidInputError
from careconnect.notifications.models import NotificationSettings, PhoneVerification

logger = logging.getLogger(__name__)

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


class CodeInvalidError(InvalidInputError):
    code = "code_invalid"
    default_message = "That code is not right, or it expired. Ask for a new one."


class TooManyAttemptsError(ConflictError):
    code = "too_many_attempts"
    default_message = "Too many wrong codes. Ask for a new one."


def normalise(number: str) -> str:
    compact = re.sub(r"[\s().-]", "", number)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not E164.match(compact):
        raise InvalidInputError(
            phone=["Enter the number in international form, e.g. +351 912 345 678."]
        )
    return compact


def _aad(user: User) -> str:
    return f"notifications.sms-number:{user.id}"


def _code_hash(verification_id: object, code: str) -> str:
    return hashlib.sha256(f"{verification_id}:{code}".encode()).hexdigest()


def verified_number(user: User) -> str:
    row = NotificationSettings.objects.filter(user=user).first()
    if row is None or not row.sms_verified_at or not row.sms_number_sealed:
        return ""
    key = ensure_data_key(user)
    return open_sealed(key, bytes(row.sms_number_sealed), aad=_aad(user)).decode()


@transaction.atomic
def start_verification(*, actor: User, number: str) -> PhoneVerification:
    """Send a 6-digit code to `number` by SMS (after commit)."""
    from careconnect.notifications.sms import send_sms

    normalised = normalise(number)
    key = ensure_data_key(actor)
    PhoneVerification.objects.filter(user=actor, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification(
        user=actor,
        number_sealed=seal(key, normalised.encode(), aad=_aad(actor)),
        expires_at=timezone.now() + timedelta(minutes=CODE_MINUTES),
    )
    verification.code_hash = _code_hash(verification.id, code)
    verification.save(force_insert=True)
    text = f"Your CareConnect code is {code}. It expires in {CODE_MINUTES} minutes."

    def send() -> None:
        # After commit, so a refused number or an outage cannot undo the request; the person
        # sees no code arrive and asks for a new one (logged for the operator).
        try:
            send_sms(to=normalised, body=text, name=f"verify-{verification.id}")
        except Exception:
            logger.warning("verification SMS %s could not be sent", verification.id, exc_info=True)

    transaction.on_commit(send)
    return verification


@transaction.atomic
def confirm_verification(*, actor: User, code: str) -> NotificationSettings:
    from careconnect.notifications.services import number_hash

    verification = (
        PhoneVerification.objects.select_for_update()
        .filter(user=actor, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if verification is None or verification.expires_at < now:
        raise CodeInvalidError()
    if verification.attempts >= MAX_ATTEMPTS:
        raise TooManyAttemptsError()
    if not secrets.compare_digest(verification.code_hash, _code_hash(verification.id, code)):
        verification.attempts += 1
        verification.save(update_fields=["attempts"])
        raise CodeInvalidError()
    verification.used_at = now
    verification.save(update_fields=["used_at"])
    key = ensure_data_key(actor)
    number = open_sealed(key, bytes(verification.number_sealed), aad=_aad(actor)).decode()
    row, _ = NotificationSettings.objects.select_for_update().get_or_create(user=actor)
    row.sms_number_sealed = seal(key, number.encode(), aad=_aad(actor))
    row.sms_number_hash = number_hash(number)
    row.sms_last4 = number[-4:]
    row.sms_verified_at = now
    row.save()
    return row
