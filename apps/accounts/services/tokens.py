"""Token use cases: password login, refresh rotation, logout and pruning expired auth rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts import lockout
from apps.accounts.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidToken,
    PasswordLoginNotAllowed,
    RefreshTokenRequired,
)
from apps.accounts.models import OtpCode, User, UserType
from apps.accounts.services.common import _mark_logged_in
from apps.accounts.tokens import (
    TokenPair,
    blacklist_once,
    family_is_revoked,
    family_of,
    family_revoke,
    issue_tokens,
    issued_before_revocation,
    parse_refresh,
    reused_family,
    token_issued_at,
)
from apps.core.caller_cache import caller_changed
from apps.core.logging import get_logger

log = get_logger(__name__)


# A password hash computed for unknown e-mails, so a miss costs as long as a wrong password.
_DUMMY_USER = User(password="")


def token_obtain_by_password(*, email: str, password: str) -> tuple[User, TokenPair]:
    """E-mail + password for INTERNAL and SUPER_ADMIN users.

    Refuses: locked (429), unknown e-mail or wrong password (401, counted), partner users
    (403: they sign in by OTP), disabled accounts (403).
    """
    email = email.strip().lower()
    lock_id = f"email:{email}"
    lockout.ensure_not_locked(lock_id)
    user = User.objects.filter(email=email).first()
    if user is not None and user.user_type == UserType.EXTERNAL:
        raise PasswordLoginNotAllowed()
    # Counted and checked in one step before any hash is computed (lockout module).
    attempt = lockout.attempt_begin(lock_id)
    if user is None:
        _DUMMY_USER.set_password(password)
        lockout.attempt_failed(attempt)
        raise InvalidCredentials()
    if not user.check_password(password):
        lockout.attempt_failed(attempt)
        raise InvalidCredentials()
    if not user.is_active:
        lockout.attempt_abandoned(attempt)
        raise AccountDisabled()
    lockout.attempt_succeeded(attempt)
    _mark_logged_in(user)
    log.info("auth.password_login", user_id=str(user.id))
    return user, issue_tokens(user)


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate: the presented refresh token is blacklisted (exactly once) and a new pair of the same
    session family issued. A rotated token presented again revokes its family (reuse)."""
    try:
        token = parse_refresh(refresh)
    except InvalidToken:
        # A rotated token used again was copied: end the whole session it belongs to (issue 14).
        family = reused_family(refresh)
        if family is not None:
            family_revoke(family)
            log.warning("auth.refresh_token_reused", family=family)
        raise
    user = User.objects.filter(pk=token.get("user_id")).first()
    if user is None or not user.is_active or issued_before_revocation(user, token_issued_at(token)):
        raise InvalidToken()
    if family_is_revoked(family_of(token)):
        raise InvalidToken()
    with transaction.atomic():
        blacklist_once(token)
    return issue_tokens(user, family=family_of(token))


def logout(*, user: User, refresh: str | None, everywhere: bool) -> int:
    """End this session (blacklist its refresh token) or all of them (also revokes every access
    token issued so far). Returns how many refresh tokens were revoked."""
    if everywhere:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(tokens_valid_after=timezone.now())
            caller_changed([user.pk])  # an update() sends no signal: the cached row goes now
            outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
                blacklistedtoken__isnull=False
            )
            revoked = [BlacklistedToken(token=t) for t in outstanding]
            BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
        return len(revoked)
    if not refresh:
        raise RefreshTokenRequired()
    token = parse_refresh(refresh)
    if str(token.get("user_id")) != str(user.pk):
        raise InvalidToken()
    with transaction.atomic():
        blacklist_once(token)
    return 1


def prune_auth_artifacts(*, now: datetime | None = None) -> dict[str, int]:
    """Delete OTP codes older than a day (the send-limit window) and expired JWT rows.

    Returns how many OTP codes, refresh tokens and (cascaded) blacklist rows were deleted."""
    now = now or timezone.now()
    with transaction.atomic():
        otps, _ = OtpCode.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
        # Deleting an outstanding token cascades to its blacklist row; both are useless once expired.
        _, deleted = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    return {
        "otp_codes": otps,
        "tokens": deleted.get(OutstandingToken._meta.label, 0),
        "blacklisted_tokens": deleted.get(BlacklistedToken._meta.label, 0),
    }
