"""GST verification adapter: is a GSTIN valid, and what does the GST registry know about it
(legal name, registration status, annual turnover, return-filing compliance)?

- `OfflineGstVerifier` (the default) checks the pattern, state code and check character
  (apps.organizations.validators) and knows nothing else: source "offline".
- `HttpGstVerifier` (selected when GST_VERIFY_HTTP_URL is set) first does the same offline check
  (a malformed GSTIN is never sent), then POSTs `{"gstin": ...}` as JSON with a bearer token and
  reads `{"valid", "legal_name", "status", "annual_turnover", "filing_compliance"}`: source
  "registry". Transport errors and 5xx/429 answers are retried (three attempts) behind a circuit
  breaker shared by the process; when the registry cannot answer, the offline result comes back
  with source "unavailable", so callers carry on with the applicant's own declarations.

Callers run it before their transaction: it may do network I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

import httpx
import pybreaker
import stamina
from django.conf import settings

from apps.core.logging import get_logger
from apps.organizations.errors import FieldInvalid
from apps.organizations.validators import normalize_identifier, validate_gstin
from apps.partners.models import FilingCompliance

log = get_logger(__name__)

SOURCE_OFFLINE = "offline"
SOURCE_REGISTRY = "registry"
SOURCE_UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class GstVerification:
    gstin: str
    valid: bool
    source: str
    legal_name: str | None = None
    status: str | None = None  # the registry's registration status, e.g. "Active", "Cancelled"
    annual_turnover: Decimal | None = None  # rupees
    filing_compliance: str | None = None  # a FilingCompliance value
    reason: str | None = None  # why it is invalid (a validator code), when the offline check failed

    @property
    def from_registry(self) -> bool:
        return self.source == SOURCE_REGISTRY


class GstVerifier(Protocol):
    def verify(self, gstin: str) -> GstVerification: ...


def offline_check(gstin: str) -> GstVerification:
    gstin = normalize_identifier(gstin)
    try:
        validate_gstin(gstin)
    except FieldInvalid as exc:
        return GstVerification(gstin=gstin, valid=False, source=SOURCE_OFFLINE, reason=exc.errors[0]["code"])
    return GstVerification(gstin=gstin, valid=True, source=SOURCE_OFFLINE)


class OfflineGstVerifier:
    """Offline default: the pattern and check character only; no registry data."""

    def verify(self, gstin: str) -> GstVerification:
        return offline_check(gstin)


class _RetryableRegistryError(Exception):
    """A 5xx or 429 from the registry: worth another try."""


class _UnreadableAnswer(Exception):
    """A 4xx or an answer we cannot read: not retried, not counted by the breaker."""


gst_breaker = pybreaker.CircuitBreaker(
    fail_max=5, reset_timeout=60, exclude=[_UnreadableAnswer], name="gst-verification"
)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _compliance(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip().upper()
    return value if value in FilingCompliance.values else None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


class HttpGstVerifier:
    def __init__(self, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        self.url = url or settings.GST_VERIFY_HTTP_URL
        self.token = token if token is not None else settings.GST_VERIFY_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else settings.GST_VERIFY_HTTP_TIMEOUT_SECONDS

    @stamina.retry(on=(httpx.TransportError, _RetryableRegistryError), attempts=3, wait_initial=0.2, wait_max=1.0)
    def _post(self, gstin: str) -> dict[str, Any]:
        response = httpx.post(
            self.url,
            json={"gstin": gstin},
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=self.timeout,
            follow_redirects=False,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableRegistryError(f"GST registry answered {response.status_code}")
        if response.status_code == 404:
            return {"valid": False}
        if response.status_code != 200:
            raise _UnreadableAnswer(f"GST registry answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise _UnreadableAnswer("GST registry answered something that is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("valid"), bool):
            raise _UnreadableAnswer("GST registry answer has no boolean `valid`")
        return body

    def verify(self, gstin: str) -> GstVerification:
        offline = offline_check(gstin)
        if not offline.valid:
            return offline
        try:
            body: dict[str, Any] = gst_breaker.call(self._post, offline.gstin)
        except pybreaker.CircuitBreakerError:
            log.warning("gst.breaker_open")
            return GstVerification(gstin=offline.gstin, valid=True, source=SOURCE_UNAVAILABLE)
        except (httpx.HTTPError, _RetryableRegistryError, _UnreadableAnswer) as exc:
            log.warning("gst.failed", error=type(exc).__name__)
            return GstVerification(gstin=offline.gstin, valid=True, source=SOURCE_UNAVAILABLE)
        if not body["valid"]:
            return GstVerification(gstin=offline.gstin, valid=False, source=SOURCE_REGISTRY, reason="not_registered")
        return GstVerification(
            gstin=offline.gstin,
            valid=True,
            source=SOURCE_REGISTRY,
            legal_name=_text(body.get("legal_name")),
            status=_text(body.get("status")),
            annual_turnover=_decimal(body.get("annual_turnover")),
            filing_compliance=_compliance(body.get("filing_compliance")),
        )


@lru_cache(maxsize=1)
def _offline() -> OfflineGstVerifier:
    return OfflineGstVerifier()


def registry_configured() -> bool:
    return bool(getattr(settings, "GST_VERIFY_HTTP_URL", ""))


def get_gst_verifier() -> GstVerifier:
    if registry_configured():
        return HttpGstVerifier()
    return _offline()


def verify_gstin(gstin: str) -> GstVerification:
    return get_gst_verifier().verify(gstin)
