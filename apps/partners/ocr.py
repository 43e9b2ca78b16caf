"""OCR adapter. The offline default extracts nothing: the document waits for manual verification.

Which backend runs:
- `PARTNERS_OCR_BACKEND`, when set: dotted path of a callable taking the document type and the
  file bytes, returning a dict of extracted fields;
- else `http_backend` when `PARTNERS_OCR_HTTP_URL` is set: `HttpOcrBackend` POSTs the file as
  multipart (fields `document_type` and `file`) with a bearer token and reads `{"fields": {...}}`
  from the JSON answer;
- else `null_backend`.

An OCR service that is unreachable, slow or failing never fails an upload: the HTTP backend
retries transport errors and 5xx/429 answers (three attempts), sits behind a circuit breaker
shared by the process, and answers {} (manual verification) when all that fails. It runs before
the upload's transaction (services.onboarding.check_upload), never inside one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pybreaker
import stamina
from django.conf import settings
from django.utils.module_loading import import_string

from apps.core.logging import get_logger
from apps.partners.documents import sniff_content_type

log = get_logger(__name__)

OcrBackend = Callable[[str, bytes], dict[str, Any]]

_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def null_backend(document_type: str, content: bytes) -> dict[str, Any]:
    return {}


class _RetryableOcrError(Exception):
    """A 5xx or 429 from the OCR service: worth another try."""


class _RefusedByOcr(Exception):
    """A 4xx or an unreadable answer: not retried, and not the service's failure (the breaker
    does not count it)."""


# Shared by every HttpOcrBackend in the process: five consecutive failed extractions open it
# for a minute, during which uploads skip OCR at once.
ocr_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60, exclude=[_RefusedByOcr], name="ocr-service")


class HttpOcrBackend:
    """POST multipart `document_type` + `file` with a bearer token to PARTNERS_OCR_HTTP_URL;
    the answer is JSON `{"fields": {"name": value, ...}}`."""

    def __init__(self, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        self.url = url or settings.PARTNERS_OCR_HTTP_URL
        self.token = token if token is not None else settings.PARTNERS_OCR_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else settings.PARTNERS_OCR_HTTP_TIMEOUT_SECONDS

    @stamina.retry(on=(httpx.TransportError, _RetryableOcrError), attempts=3, wait_initial=0.2, wait_max=1.0)
    def _post(self, document_type: str, content: bytes) -> dict[str, Any]:
        content_type = sniff_content_type(content[:16]) or "application/octet-stream"
        filename = f"{document_type.lower()}.{_EXTENSIONS.get(content_type, 'bin')}"
        response = httpx.post(
            self.url,
            data={"document_type": document_type},
            files={"file": (filename, content, content_type)},
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=self.timeout,
            follow_redirects=False,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableOcrError(f"OCR service answered {response.status_code}")
        if response.status_code != 200:
            raise _RefusedByOcr(f"OCR service answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise _RefusedByOcr("OCR service answered something that is not JSON") from exc
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise _RefusedByOcr("OCR answer has no `fields` object")
        return {str(key): value for key, value in fields.items() if value not in (None, "")}

    def extract(self, document_type: str, content: bytes) -> dict[str, Any]:
        try:
            fields: dict[str, Any] = ocr_breaker.call(self._post, document_type, content)
        except pybreaker.CircuitBreakerError:
            log.warning("ocr.breaker_open", document_type=document_type)
            return {}
        except (httpx.HTTPError, _RetryableOcrError, _RefusedByOcr) as exc:
            log.warning("ocr.failed", document_type=document_type, error=type(exc).__name__)
            return {}
        log.info("ocr.extracted", document_type=document_type, fields=sorted(fields))
        return fields


def http_backend(document_type: str, content: bytes) -> dict[str, Any]:
    return HttpOcrBackend().extract(document_type, content)


def get_backend() -> OcrBackend:
    path = getattr(settings, "PARTNERS_OCR_BACKEND", "")
    if path:
        backend: OcrBackend = import_string(path)
        return backend
    if getattr(settings, "PARTNERS_OCR_HTTP_URL", ""):
        return http_backend
    return null_backend


def extract(document_type: str, content: bytes) -> dict[str, Any]:
    return get_backend()(document_type, content)
