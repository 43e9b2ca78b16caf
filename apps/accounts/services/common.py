"""What the login use cases share. No use case lives here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from apps.accounts import lockout
from apps.accounts.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidToken,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    OtpLoginNotAllowed,
    OtpSendLimited,
    PasswordLoginNotAllowed,
    RefreshTokenRequired,
    SmsUnavailable,
    UnknownOrganization,
)
from apps.accounts.models import OtpCode, OtpPurpose, User, UserType
from apps.accounts.phone import normalize_mobile
from apps.accounts.sms import get_sms_backend
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
from apps.accounts.users import user_create
from apps.core.caller_cache import caller_changed
from apps.core.logging import get_logger
from apps.core.redis import get_redis
from apps.organizations.selectors import organization_by_code


log = get_logger(__name__)


def _mark_logged_in(user: User) -> None:
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    caller_changed([user.pk])  # the cached row carries last_login
