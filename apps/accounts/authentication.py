"""Bearer JWT authentication: access tokens only (a refresh token is refused by its type),
and tokens issued before the user's last 'log out everywhere' or disabling are refused."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from apps.accounts.models import User
from apps.accounts.tokens import issued_before_revocation, token_issued_at


class JwtAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        if isinstance(user, User) and issued_before_revocation(user, token_issued_at(validated_token)):
            raise AuthenticationFailed("The token was revoked.", code="token_revoked")
        return user
