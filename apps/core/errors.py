"""Domain errors: what a service refuses, with a stable code and an HTTP status."""

from __future__ import annotations

from collections.abc import Sequence
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


class ValidationFailed(DomainError):
    """400 validation_failed: several stages found bad fields (the API's type checks and a
    service's rules); `errors` lists every one. Rendered as `type: validation_error`, as a
    serializer's refusal is."""

    code = "validation_failed"
    status = 400
    default_detail = "The request has invalid fields; see errors."


FieldError = dict[str, Any]  # {"attr", "code", "detail"}


class FieldErrors:
    """Collects the 400 refusals of a request's fields so the client hears of all of them at once.

    `prior` are the errors an earlier stage found (the API's type checks): their fields are not
    refused twice (a field missing because its type was wrong is not also "required"). Run each
    independent read with `run` (a 400 DomainError is recorded and None returned; any other error
    propagates); then `raise_if_any(several)`:
    - with prior errors: ValidationFailed listing the prior errors and the new ones;
    - with one refusal only: that refusal itself (its own code, as before collecting);
    - with more: `several(errors)`, the caller's error carrying the list.
    """

    def __init__(self, prior: Sequence[FieldError] = ()) -> None:
        self.prior = [dict(error) for error in prior]
        self.errors: list[FieldError] = []
        self._refusals: list[DomainError] = []

    def failed(self, attr: str | None) -> bool:
        """Whether `attr` (or a field inside it, or the field it is inside) already has an error."""
        if not attr:
            return False
        for error in (*self.prior, *self.errors):
            other = error.get("attr") or ""
            if other == attr or other.startswith(attr + ".") or attr.startswith(other + "."):
                return True
        return False

    def run(self, read: Any) -> Any:
        try:
            return read()
        except DomainError as error:
            if error.status != 400:
                raise
            self.record(error)
            return None

    def record(self, error: DomainError) -> None:
        items = error.errors or [{"attr": None, "code": error.code, "detail": error.detail}]
        fresh = [dict(item) for item in items if not self.failed(item.get("attr"))]
        if fresh:
            self._refusals.append(error)
            self.errors.extend(fresh)

    def raise_if_any(self, several: Any) -> None:
        if self.prior:
            raise ValidationFailed(errors=[*self.prior, *self.errors])
        if not self.errors:
            return
        if len(self._refusals) == 1:
            raise self._refusals[0]
        raise several(self.errors)
