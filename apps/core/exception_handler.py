"""One error shape for every 4xx/5xx of the API.

`{"type", "code", "detail", "errors", "request_id"}`: drf-standardized-errors' `type` and
`errors` list, plus a top-level stable `code`, a human `detail` and the request id. Domain
errors, integrity violations and lock contention are converted here so no view has to.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.db import IntegrityError, OperationalError
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.types import ErrorResponse, ExceptionHandlerContext
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout
from redis import exceptions as redis_exceptions
from rest_framework import exceptions
from rest_framework.response import Response

from apps.core.errors import (
    Conflict,
    DomainError,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyFields,
    ValidationFailed,
)
from apps.core.request_context import get_request_id

VALIDATION_CODE = "validation_failed"
VALIDATION_DETAIL = "The request has invalid fields; see errors."


class DomainAPIException(exceptions.APIException):
    """Carries a DomainError through DRF's machinery."""

    def __init__(self, error: DomainError) -> None:
        self.status_code = error.status
        self.domain_error = error
        super().__init__(detail=error.detail, code=error.code)


def is_pool_timeout(exc: BaseException | None) -> bool:
    """No pooled database connection came free in DB_POOL_TIMEOUT_SECONDS (Django wraps psycopg's
    PoolTimeout in its own OperationalError)."""
    return isinstance(exc, PoolTimeout) or (
        isinstance(exc, OperationalError) and isinstance(exc.__cause__, PoolTimeout)
    )


def is_redis_unavailable(exc: BaseException | None) -> bool:
    """Redis did not answer, or no pooled connection to it came free in time."""
    return isinstance(exc, (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError))


def redis_busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The session store is busy or unreachable; retry shortly.", code="redis_busy", headers={"Retry-After": "1"}
    )


def database_busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "Every database connection is in use; retry shortly.", code="database_busy", headers={"Retry-After": "1"}
    )


def refusal_for_suspicious(exc: BaseException) -> DomainError | None:
    """Django's refusals of a request's shape (raised when DRF first reads it) as our 4xx."""
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return TooManyFields()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return DomainError("The request was refused.", code="bad_request")
    return None


def _is_lock_contention(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected, pg_errors.SerializationFailure))


class CottonExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return DomainAPIException(exc)
        if isinstance(exc, IntegrityError):
            return DomainAPIException(Conflict("The change conflicts with existing data.", code="integrity_conflict"))
        if is_pool_timeout(exc):
            return DomainAPIException(database_busy())
        if is_redis_unavailable(exc):
            return DomainAPIException(redis_busy())
        refusal = refusal_for_suspicious(exc)
        if refusal is not None:
            return DomainAPIException(refusal)
        if isinstance(exc, OperationalError) and _is_lock_contention(exc):
            return DomainAPIException(Conflict("The record is busy; retry the request.", code="lock_contention"))
        return super().convert_known_exceptions(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict[str, str]:
        headers: dict[str, str] = super().get_headers(exc)
        if isinstance(exc, DomainAPIException):
            headers.update(exc.domain_error.headers)
        return headers


class CottonExceptionFormatter(ExceptionFormatter):
    def get_error_type(self) -> Any:
        # Errors collected across stages (core.errors.FieldErrors) read as a serializer's do.
        if isinstance(self.exc, DomainAPIException) and isinstance(self.exc.domain_error, ValidationFailed):
            return "validation_error"
        return super().get_error_type()

    def format_error_response(self, error_response: ErrorResponse) -> dict[str, Any]:
        exc = self.exc
        errors = [{"code": e.code, "detail": e.detail, "attr": e.attr} for e in error_response.errors]
        extra: dict[str, Any] = {}
        code: str
        detail: str
        if isinstance(exc, DomainAPIException):
            code = exc.domain_error.code
            detail = exc.domain_error.detail
            if exc.domain_error.errors:
                errors = [
                    {"code": e.get("code", code), "detail": e["detail"], "attr": e.get("attr")}
                    for e in exc.domain_error.errors
                ]
            extra = exc.domain_error.extra
        elif isinstance(exc, exceptions.ValidationError):
            code, detail = VALIDATION_CODE, VALIDATION_DETAIL
        elif isinstance(exc.detail, dict) and {"code", "detail"} <= exc.detail.keys():
            # simplejwt's errors carry {"detail", "code", "messages"}: one error with its own code
            # (token_not_valid, token_revoked, user_inactive), not one "error" per dict key.
            code, detail = str(exc.detail["code"]), str(exc.detail["detail"])
            errors = [{"code": code, "detail": detail, "attr": None}]
        else:
            code = str(errors[0]["code"]) if errors else "error"
            detail = str(errors[0]["detail"]) if errors else str(exc.detail)
            if error_response.type == "server_error":
                code, detail = "server_error", "Server error. Quote the request id when reporting it."
                errors = [{"code": code, "detail": detail, "attr": None}]
        return {
            "type": error_response.type,
            "code": code,
            "detail": detail,
            "errors": errors,
            "request_id": get_request_id(),
            **extra,
        }


def api_exception_handler(exc: Exception, context: ExceptionHandlerContext) -> Response | None:
    return CottonExceptionHandler(exc, context).run()


def error_body(*, status_code: int, code: str, detail: str) -> dict[str, Any]:
    """The same shape for errors raised outside DRF (Django 404/500 handlers under /api/)."""
    return {
        "type": "client_error" if status_code < 500 else "server_error",
        "code": code,
        "detail": detail,
        "errors": [{"code": code, "detail": detail, "attr": None}],
        "request_id": get_request_id(),
    }
