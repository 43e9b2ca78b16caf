"""JWT issue, rotation and revocation (simplejwt with its blacklist app)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.errors import InvalidToken
from apps.core.redis import get_redis

if TYPE_CHECKING:
    from apps.accounts.models import User


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    token_type: str = "Bearer"

    @property
    def access_expires_in(self) -> int:
        return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


# `iat` has whole seconds. Revocation (tokens_valid_after) needs finer: a token issued in the same
# second as, but after, a "log out everywhere" must work. Copied into the access token with the rest.
ISSUED_AT_US_CLAIM = "iat_us"


# Every login starts a session family; each rotation hands it on, and the access tokens carry it
# too. A rotated refresh token presented again revokes the whole family (issue 14).
FAMILY_CLAIM = "fam"


def issue_tokens(user: User, *, family: str | None = None) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    refresh["user_type"] = user.user_type
    refresh[FAMILY_CLAIM] = family or uuid.uuid4().hex
    refresh[ISSUED_AT_US_CLAIM] = int(refresh.current_time.timestamp() * 1_000_000)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def token_issued_at(token: Any) -> float:
    """When a (validated) token was issued, to the microsecond when it says so, as a POSIX timestamp."""
    issued_at_us = token.get(ISSUED_AT_US_CLAIM)
    if issued_at_us is not None:
        return int(issued_at_us) / 1_000_000
    return float(token.get("iat", 0))


def parse_refresh(raw: str) -> RefreshToken:
    """Signature, expiry, type ('refresh') and blacklist checked; InvalidToken otherwise."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidToken() from exc


def issued_before_revocation(user: User, issued_at: float) -> bool:
    return user.tokens_valid_after is not None and issued_at < user.tokens_valid_after.timestamp()


def blacklist_once(token: RefreshToken) -> None:
    """Blacklist a refresh token, refusing when it already was: a refresh token works exactly
    once even when two requests race with it (the unique row decides)."""
    jti = token["jti"]
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "token": str(token),
            "expires_at": datetime.fromtimestamp(int(token["exp"]), tz=UTC),
            "user_id": token.get("user_id"),
        },
    )
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise InvalidToken() from exc


# --- session families ---------------------------------------------------------------------------


def family_key(family: str) -> str:
    return "cotton:jwt:family-revoked:" + hashlib.sha256(family.encode()).hexdigest()[:32]


def family_of(token: Any) -> str | None:
    family = token.get(FAMILY_CLAIM)
    return str(family) if family else None


def family_revoke(family: str) -> None:
    """Revoke every token of the family for as long as any of them can live (the refresh lifetime)."""
    lifetime = int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds())
    get_redis().set(family_key(family), "1", ex=lifetime)


def family_is_revoked(family: str | None) -> bool:
    return bool(family) and bool(get_redis().exists(family_key(family)))  # type: ignore[arg-type]


def reused_family(raw: str) -> str | None:
    """The family of `raw` when it is a genuine refresh token (signature and expiry checked) that
    was already rotated or logged out: presenting it again is reuse. None for anything else."""
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.state import token_backend

    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except (TokenError, TokenBackendError):
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return None
    jti = payload.get(api_settings.JTI_CLAIM)
    if not jti or not BlacklistedToken.objects.filter(token__jti=jti).exists():
        return None
    return family_of(payload)
