"""SMS adapter. The default backend logs a masked line and keeps the message in the dev inbox
(admin: Accounts > SMS (dev inbox)); `HttpSmsBackend` posts to a gateway with retries and a
circuit breaker. Select one with the SMS_BACKEND setting."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import httpx
import pybreaker
import stamina
from django.conf import settings
from django.utils.module_loading import import_string

from apps.accounts.errors import SmsUnavailable
from apps.accounts.models import SmsMessage, User
from apps.core.logging import get_logger

log = get_logger(__name__)


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, organization_id: Any = None) -> None: ...


class InboxSmsBackend:
    """Offline default: nothing leaves the machine."""

    def send(self, *, to: str, body: str, organization_id: Any = None) -> None:
        """`organization_id`: whose message this is; by default the recipient user's organization
        (None when the number is nobody's: only the platform admin sees it)."""
        if organization_id is None:
            organization_id = User.objects.filter(mobile=to).values_list("organization_id", flat=True).first()
        SmsMessage.objects.create(to=to, body=body, backend=type(self).__name__, organization_id=organization_id)
        log.info("sms.sent_to_dev_inbox", to=to, body=body)  # masked by the log processor


class _RetryableGatewayError(Exception):
    """A 5xx or 429 from the gateway: worth another try."""


# Shared by every HttpSmsBackend in the process: five consecutive failures open it for a minute.
sms_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60, name="sms-gateway")


class HttpSmsBackend:
    """POST {"to", "body", "sender"} as JSON with a bearer token to SMS_HTTP_URL."""

    def __init__(self, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        self.url = url or settings.SMS_HTTP_URL
        self.token = token if token is not None else settings.SMS_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT_SECONDS

    @stamina.retry(on=(httpx.TransportError, _RetryableGatewayError), attempts=3, wait_initial=0.2, wait_max=1.0)
    def _post(self, payload: dict[str, str]) -> None:
        response = httpx.post(
            self.url,
            json=payload,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
            follow_redirects=False,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableGatewayError(f"gateway answered {response.status_code}")
        response.raise_for_status()

    def send(self, *, to: str, body: str, organization_id: Any = None) -> None:
        try:
            sms_breaker.call(self._post, {"to": to, "body": body, "sender": settings.SMS_HTTP_SENDER})
        except pybreaker.CircuitBreakerError as exc:
            log.warning("sms.breaker_open", to=to)
            raise SmsUnavailable() from exc
        except (httpx.HTTPError, _RetryableGatewayError) as exc:
            log.warning("sms.failed", to=to, error=type(exc).__name__)
            raise SmsUnavailable() from exc
        log.info("sms.sent", to=to, backend="http")


@lru_cache(maxsize=4)
def _backend_class(path: str) -> type:
    return import_string(path)  # type: ignore[no-any-return]


def get_sms_backend() -> SmsBackend:
    return _backend_class(settings.SMS_BACKEND)()  # type: ignore[no-any-return]
