"""`Authorization: Token <token>` for non-browser clients, against hashed API tokens
(accounts.ApiToken). The header and the answers are DRF's TokenAuthentication's: only the
lookup differs (by digest: the database never holds a usable token)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from careconnect.accounts import selectors, services
from careconnect.accounts.models import ApiToken, User


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        api_token = selectors.find_api_token(token=key)
        if api_token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not api_token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        services.record_api_token_use(api_token=api_token)
        return api_token.user, api_token
