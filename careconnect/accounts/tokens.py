"""Signed single-purpose tokens for emailed links (no PHI and no email address in a token), and
the random secrets of API tokens, of which only a digest is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from careconnect.accounts.models import User
from careconnect.errors import InvalidTokenError

_CONFIRM_SALT = "careconnect.accounts.confirm-email"


def make_confirmation_token(user: User) -> str:
    # Binding the current email means a token stops working if the address changes.
    digest = hashlib.sha256((user.email or "").encode()).hexdigest()[:16]
    return signing.dumps({"u": str(user.id), "e": digest}, salt=_CONFIRM_SALT, compress=True)


def read_confirmation_token(token: str) -> User:
    try:
        data = signing.loads(token, salt=_CONFIRM_SALT, max_age=settings.EMAIL_CONFIRMATION_MAX_AGE)
        user = User.objects.get(id=data["u"], is_active=True)
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError) as exc:
        raise InvalidTokenError() from exc
    if hashlib.sha256((user.email or "").encode()).hexdigest()[:16] != data.get("e"):
        raise InvalidTokenError()
    return user


def make_password_reset_token(user: User) -> str:
    # Django's generator hashes the password and last login: a used link dies with the reset.
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{default_token_generator.make_token(user)}"


def read_password_reset_token(token: str) -> User:
    uid, _, value = token.partition(".")
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uid)), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise InvalidTokenError() from exc
    if not value or not default_token_generator.check_token(user, value):
        raise InvalidTokenError()
    return user


API_TOKEN_PREFIX = "cc_"  # noqa: S105 (a public marker, not a secret)


def new_api_token() -> tuple[str, str]:
    """(API token, shown to the client once; sha256 hex to store). The prefix lets people and
    secret scanners recognise a leaked token. 32 random bytes leave nothing to guess, so a fast
    unsalted hash is enough (a slow password hash would cost every request)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def new_secret_token() -> tuple[str, str]:
    """(token for the link, sha256 hex to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
