from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from careconnect.accounts.models import User
from careconnect.errors import PermissionDeniedError


class MfaSetupRequiredError(PermissionDeniedError):
    code = "mfa_setup_required"
    default_message = "Staff accounts must turn on two-factor authentication first."


class IsSignedIn(BasePermission):
    """Signed in; and staff under enforced MFA may only reach the views that set it up."""

    def has_permission(self, request: Request, view: Any) -> bool:
        from careconnect.accounts.services import mfa_setup_required

        user = request.user
        if not isinstance(user, User):
            return False
        if not getattr(view, "allowed_without_mfa", False) and mfa_setup_required(user):
            raise MfaSetupRequiredError()
        return True


class Anyone(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return True
