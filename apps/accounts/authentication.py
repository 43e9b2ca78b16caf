"""Bearer JWT authentication: access tokens only (a refresh token is refused by its type),
and tokens issued before the user's last 'log out everywhere' or disabling, or of a session family
revoked for refresh-token reuse, are refused.

The user row is read once per user and process and served again while the user's version in
Redis stands (apps/core/caller_cache.py; the signals in apps/accounts/caller.py replace it on any
change to the row, logout everywhere replaces it in its service). The version and the session
family's revocation are read in one Redis round trip, so a request costs no query for the caller.

A token's signature and claims are checked once per process (issue 15: about 5% of a market
request went to decoding the same token again): the raw token, byte for byte, is kept with its
expiry and served until then. Only the check of what the bytes say is skipped; whether the user
may still use them (revocation, deactivation, the session family) is asked on every request.
Tied to CALLER_CACHE_ENABLED, the switch of the caller's other per-process caches."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from apps.accounts.caller import cached_user
from apps.accounts.tokens import family_key, family_of, issued_before_revocation, token_issued_at
from apps.core.caller_cache import caller_version

# Raw token -> (the instant it stops being valid, in epoch seconds; the checked token). The bytes
# are the key, so a token altered in any way is checked afresh. Past the bound the cache starts
# again (tokens live minutes; a process sees few next to its requests).
_VERIFIED: dict[bytes, tuple[float, Token]] = {}
VERIFIED_MAX_ENTRIES = 20_000


def forget_verified_tokens() -> None:
    """Forget every token this process has checked (tests)."""
    _VERIFIED.clear()


class JwtAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        if not settings.CALLER_CACHE_ENABLED:
            return super().get_validated_token(raw_token)
        known = _VERIFIED.get(raw_token)
        # simplejwt refuses a token once exp <= now - leeway: served while now < exp + leeway.
        if known is not None:
            if time.time() < known[0]:
                return known[1]
            _VERIFIED.pop(raw_token, None)  # expired: simplejwt refuses it below, in its words
        token = super().get_validated_token(raw_token)
        if len(_VERIFIED) >= VERIFIED_MAX_ENTRIES:
            _VERIFIED.clear()
        leeway = token.get_token_backend().get_leeway().total_seconds()
        _VERIFIED[raw_token] = (float(token["exp"]) + leeway, token)
        return token

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
