"""OTP login use cases: request a code by SMS (with send and pumping limits) and verify it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts import lockout
from apps.accounts.errors import (
    AccountDisabled,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    OtpLoginNotAllowed,
    OtpSendLimited,
    SmsUnavailable,
    UnknownOrganization,
)
from apps.accounts.models import OtpCode, OtpPurpose, User, UserType
from apps.accounts.phone import normalize_mobile
from apps.accounts.services.common import _mark_logged_in
from apps.accounts.sms import get_sms_backend
from apps.accounts.tokens import (
    TokenPair,
    issue_tokens,
)
from apps.accounts.users import user_create
from apps.core.logging import get_logger
from apps.core.redis import get_redis
from apps.organizations.selectors import organization_by_code

log = get_logger(__name__)


@dataclass(frozen=True)
class OtpRequestResult:
    mobile: str
    expires_in: int


def _hash_code(mobile: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def _ensure_send_allowed(mobile: str) -> None:
    now = timezone.now()
    windows = (
        (settings.OTP_SEND_LIMIT_SHORT, timedelta(seconds=settings.OTP_SEND_WINDOW_SHORT_SECONDS)),
        (settings.OTP_SEND_LIMIT_DAY, timedelta(days=1)),
    )
    for limit, window in windows:
        recent = list(
            OtpCode.objects.filter(mobile=mobile, created_at__gt=now - window)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            # The window frees a slot when the oldest of the last `limit` sends leaves it.
            retry_after = (recent[-1] + window - now).total_seconds()
            raise OtpSendLimited(retry_after=int(retry_after) + 1)


# KEYS: counter. ARGV: limit, window. Counts one send; past the limit gives it back and returns
# -seconds until the window ends, else the count.
_COUNT_SEND = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  local wait = redis.call('TTL', KEYS[1])
  if wait < 1 then wait = 1 end
  return -wait
end
return n
"""


def _ensure_pumping_limits(*, client_ip: str | None, organization_id: object) -> None:
    """OTP requests per client IP (every request, whether or not an SMS follows) and SMS per
    organization, each per hour (OTP_SEND_LIMIT_PER_IP_HOUR, OTP_SEND_LIMIT_PER_ORGANIZATION_HOUR)."""
    counters = []
    if client_ip:
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{client_ip}".encode()).hexdigest()[:32]
        counters.append((f"cotton:otp:ip:{digest}", settings.OTP_SEND_LIMIT_PER_IP_HOUR))
    if organization_id is not None:
        counters.append((f"cotton:otp:org:{organization_id}", settings.OTP_SEND_LIMIT_PER_ORGANIZATION_HOUR))
    client = get_redis()
    for key, limit in counters:
        counted = int(client.eval(_COUNT_SEND, 1, key, limit, 3600))
        if counted < 0:
            raise OtpSendLimited(retry_after=-counted)


def otp_request(*, mobile: str, organization_code: str | None = None, client_ip: str | None = None) -> OtpRequestResult:
    """Send a 6-digit sign-in code to a partner user's (or an applicant's) mobile.

    An unknown number must name the organization it applies to. The answer is the same for a
    registered partner number, an unknown number without an organization, a staff number and a
    disabled user (only the first and an applicant naming its organization get an SMS), so the
    endpoint does not tell which numbers are registered. Sends are limited per client IP and per
    organization per hour (SMS pumping), and per number under a per-number advisory lock, so
    concurrent requests cannot exceed them. The SMS is sent after the code is committed (no
    network I/O inside the transaction).
    """
    mobile = normalize_mobile(mobile)
    named = None
    if organization_code:
        named = organization_by_code(organization_code)
        if named is None:  # judged the same whoever the number belongs to
            raise UnknownOrganization.for_field("organization_code", UnknownOrganization.default_detail)
    user = User.objects.filter(mobile=mobile).select_related("organization").first()
    organization = named if user is None else None
    sends = organization is not None if user is None else user.user_type == UserType.EXTERNAL and user.is_active
    lockout.ensure_not_locked(f"mobile:{mobile}")
    billed_to = (organization.pk if organization is not None else None) if user is None else user.organization_id
    _ensure_pumping_limits(client_ip=client_ip, organization_id=billed_to if sends else None)
    if not sends:
        log.info("auth.otp_request_without_sms", registered=user is not None)
        return OtpRequestResult(mobile=mobile, expires_in=settings.OTP_TTL_SECONDS)
    assert user is not None or organization is not None  # `sends` above

    code = f"{secrets.randbelow(10**settings.OTP_LENGTH):0{settings.OTP_LENGTH}d}"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"otp:{mobile}"])
        _ensure_send_allowed(mobile)
        # Only the newest code is valid: older unconsumed ones are retired.
        OtpCode.objects.filter(mobile=mobile, consumed_at__isnull=True).update(consumed_at=timezone.now())
        otp = OtpCode.objects.create(
            mobile=mobile,
            purpose=OtpPurpose.LOGIN,
            code_hash=_hash_code(mobile, code),
            expires_at=timezone.now() + timedelta(seconds=settings.OTP_TTL_SECONDS),
            organization=organization,
        )
    minutes = settings.OTP_TTL_SECONDS // 60
    try:
        get_sms_backend().send(
            to=mobile,
            body=f"{code} is your Cotton ERP sign-in code. It expires in {minutes} minutes. Do not share it.",
            # Whose code it is: the user's organization, or the one the applicant's code is for.
            organization_id=user.organization_id if user is not None else organization.pk,  # type: ignore[union-attr]
        )
    except SmsUnavailable:
        # A code nobody received must neither be valid nor count towards the send limits.
        OtpCode.objects.filter(pk=otp.pk).delete()
        raise
    return OtpRequestResult(mobile=mobile, expires_in=settings.OTP_TTL_SECONDS)


def otp_verify(*, mobile: str, code: str) -> tuple[User, TokenPair, bool]:
    """Check a code; on success sign in (creating the applicant user on a first login).

    Returns (user, tokens, created). Wrong codes are counted on the code (5 tries) and towards
    the number's lockout; the count is committed even though the request fails.
    """
    mobile = normalize_mobile(mobile)
    lock_id = f"mobile:{mobile}"
    # Counted and checked in one step before the code is compared (lockout module).
    attempt = lockout.attempt_begin(lock_id)
    try:
        user, created, remaining = _otp_check(mobile=mobile, code=code)
    except BaseException:
        lockout.attempt_abandoned(attempt)
        raise
    if user is None:
        lockout.attempt_failed(attempt)
        raise OtpInvalid(
            f"The code is incorrect; {remaining} tries left for this code."
            if remaining
            else OtpAttemptsExceeded.default_detail,
            extra={"attempts_left": max(remaining, 0)},
        )
    lockout.attempt_succeeded(attempt)
    _mark_logged_in(user)
    log.info("auth.otp_login", user_id=str(user.id), created=created)
    return user, issue_tokens(user), created


def _otp_check(*, mobile: str, code: str) -> tuple[User | None, bool, int]:
    """(user, created, tries left): user None when the code is wrong (the try is committed)."""
    created = False
    user: User | None = None
    remaining = 0
    with transaction.atomic():
        otp = (
            OtpCode.objects.select_for_update()
            .filter(mobile=mobile, purpose=OtpPurpose.LOGIN, consumed_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if otp is None or otp.is_expired:
            raise OtpExpired()
        if otp.attempts >= settings.OTP_MAX_ATTEMPTS:
            raise OtpAttemptsExceeded()
        if hmac.compare_digest(otp.code_hash, _hash_code(mobile, code)):
            otp.consumed_at = timezone.now()
            otp.save(update_fields=["consumed_at", "updated_at"])
            user = User.objects.select_for_update().filter(mobile=mobile).first()
            if user is None:
                if otp.organization_id is None:
                    raise OtpExpired()  # a code for an unknown number always names its organization
                user = user_create(
                    mobile=mobile, user_type=UserType.EXTERNAL, organization_id=otp.organization_id, is_verified=True
                )
                created = True
            elif user.user_type != UserType.EXTERNAL:
                raise OtpLoginNotAllowed()
            elif not user.is_active:
                raise AccountDisabled()
            elif not user.is_verified:
                user.is_verified = True
                user.save(update_fields=["is_verified", "updated_at"])
        else:
            OtpCode.objects.filter(pk=otp.pk).update(attempts=F("attempts") + 1)
            remaining = settings.OTP_MAX_ATTEMPTS - otp.attempts - 1
    return user, created, remaining
