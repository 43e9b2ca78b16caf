"""Domain errors: what a service refuses, with a stable code and an HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal a service raises.

    `code` is stable API (clients switch on it); `detail` is a sentence for people; `errors`
    optionally lists field-level problems as `{"attr", "code", "detail"}`; `headers` lets a
    refusal carry e.g. `Retry-After`.
    """

    code: str = "domain_error"
    status: int = 400
    default_detail: str = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        if code:
            self.code = code
        super().__init__(self.detail)

    @classmethod
    def for_field(cls, attr: str, detail: str, *, code: str | None = None) -> DomainError:
        error = cls(detail, code=code)
        error.errors = [{"attr": attr, "code": error.code, "detail": detail}]
        return error


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_detail = "Not found."


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_detail = "You do not have permission to perform this action."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_detail = "The request conflicts with the current state of the resource."


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_detail = "Too many requests."

    def __init__(self, detail: str | None = None, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(
            detail,
            code=code,
            headers={"Retry-After": str(max(1, int(retry_after)))},
            extra={"retry_after": max(1, int(retry_after))},
        )
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status = 503
    default_detail = "A service we depend on is unavailable. Try again shortly."


class TooManyFields(DomainError):
    code = "too_many_fields"
    status = 400
    default_detail = "Too many query parameters or form fields (at most 1000)."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413
    default_detail = "The request body is larger than this endpoint accepts."
