"""Bearer JWT authentication: access tokens only (a refresh token is refused by its type),
and tokens issued before the user's last 'log out everywhere' or disabling, or of a session family
revoked for refresh-token reuse, are refused.

The user row is read once per user and process and served again while the user's version in
Redis stands (apps/core/caller_cache.py; the signals in apps/accounts/caller.py replace it on any
change to the row, logout everywhere replaces it in its service). The version and the session
family's revocation are read in one Redis round trip, so a request costs no query for the caller."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from apps.accounts.caller import cached_user
from apps.accounts.tokens import family_key, family_of, issued_before_revocation, token_issued_at
from apps.core.caller_cache import caller_version


class JwtAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        family = family_of(validated_token)
        version, (family_revoked,) = caller_version(user_id, also=[family_key(family) if family else "-"])
        user = cached_user(user_id, version)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if issued_before_revocation(user, token_issued_at(validated_token)):
            raise AuthenticationFailed("The token was revoked.", code="token_revoked")
        if family and family_revoked:  # its refresh token was reused (issue 14)
            raise AuthenticationFailed("The token was revoked.", code="token_revoked")
        return user
