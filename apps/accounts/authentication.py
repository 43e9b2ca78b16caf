"""Bearer JWT authentication: access tokens only (a refresh token is refused by its type),
and tokens issued before the user's last 'log out everywhere' or disabling, or of a session family
revoked for refresh-token reuse, are refused."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from apps.accounts.models import User
from apps.accounts.tokens import family_is_revoked, family_of, issued_before_revocation, token_issued_at


class JwtAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        if isinstance(user, User) and issued_before_revocation(user, token_issued_at(validated_token)):
            raise AuthenticationFailed("The token was revoked.", code="token_revoked")
        if family_is_revoked(family_of(validated_token)):  # its refresh token was reused (issue 14)
            raise AuthenticationFailed("The token was revoked.", code="token_revoked")
        return user
