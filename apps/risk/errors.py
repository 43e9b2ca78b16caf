"""Refusals of risk, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.core.errors import Conflict, DomainError, NotFound, PermissionDenied


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    default_detail = "No such partner."


class LimitChangeNotFound(NotFound):
    code = "limit_change_not_found"
    default_detail = "No such limit change."


class ExposureInvalid(DomainError):
    """400: an exposure booking's input breaks a rule (`code`: amount_invalid, stage_invalid,
    currency_mismatch); `errors[0].attr` names the field."""

    code = "exposure_invalid"
    status = 400

    def __init__(self, attr: str, code: str, detail: str) -> None:
        super().__init__(detail, code=code, errors=[{"attr": attr, "code": code, "detail": detail}])


class CreditLimitExceeded(Conflict):
    """409: booking this would take the partner's weighted exposure above its credit limit."""

    code = "credit_limit_exceeded"
    default_detail = "The booking would take the partner's exposure above its credit limit."

    def __init__(self, *, credit_limit: Decimal, exposure: Decimal, requested: Decimal) -> None:
        headroom = credit_limit - exposure
        super().__init__(
            f"The partner's headroom is {headroom} of a {credit_limit} limit; this needs {requested}.",
            extra={
                "credit_limit": str(credit_limit),
                "exposure": str(exposure),
                "headroom": str(headroom),
                "requested": str(requested),
            },
        )


class CreditBlocked(Conflict):
    """409: the partner's utilisation is CRITICAL (>= 100%): no new buying."""

    code = "credit_blocked"
    default_detail = "The partner's credit is fully used (utilisation at or above 100%): new buying is blocked."

    def __init__(self, *, credit_limit: Decimal, exposure: Decimal) -> None:
        super().__init__(extra={"credit_limit": str(credit_limit), "exposure": str(exposure)})


class RiskFailed(PermissionDenied):
    """403: the risk assessment of a posting failed; `factors` say why."""

    code = "risk_failed"
    default_detail = "The risk check failed; see factors."

    def __init__(self, *, score: int, factors: list[dict[str, Any]]) -> None:
        super().__init__(extra={"score": score, "factors": factors})


class LimitChangeInvalid(DomainError):
    """400: a limit change's input is wrong (`code`: limit_invalid, reason_required); all field
    errors at once."""

    code = "limit_change_invalid"
    status = 400
    default_detail = "The limit change has invalid fields; see errors."


class LimitChangeNotPending(Conflict):
    code = "limit_change_not_pending"
    default_detail = "The limit change has been decided already."


class LimitChangeAlreadyPending(Conflict):
    code = "limit_change_already_pending"
    default_detail = "A limit change of this partner is already waiting for approval."


class LimitMakerChecker(Conflict):
    code = "maker_checker_violation"
    default_detail = "The person who requested a limit change cannot also approve it."


class LimitUnchanged(Conflict):
    code = "limit_unchanged"
    default_detail = "The new limit equals the current one."
