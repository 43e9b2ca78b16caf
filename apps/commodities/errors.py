"""The commodities app's refusals."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from apps.core.errors import DomainError


class MasterDataInvalid(DomainError):
    code = "master_data_invalid"
    status = 400
    default_detail = "The master data has invalid fields; see errors."


class MasterDataDuplicate(DomainError):
    code = "master_data_duplicate"
    status = 409
    default_detail = "A row with these values already exists."


class UnknownUnit(DomainError):
    code = "unknown_unit"
    status = 400
    default_detail = "No active unit has this code."


class UnknownTradeType(DomainError):
    code = "unknown_trade_type"
    status = 400
    default_detail = "No trade type has this code."


class QualityInvalid(DomainError):
    code = "quality_invalid"
    status = 400
    default_detail = "The quality values are invalid; see errors."


class SpecInvalid(DomainError):
    code = "spec_invalid"
    status = 400
    default_detail = "The quality specification is invalid; see errors."


class ScheduleInvalid(DomainError):
    code = "schedule_invalid"
    status = 400
    default_detail = "The schedule's rules are invalid; see errors."


class ScheduleFrozen(DomainError):
    code = "schedule_frozen"
    status = 409
    default_detail = "The schedule has been activated and can no longer change; create a new version."


class ParameterImmutable(DomainError):
    code = "parameter_immutable"
    status = 409
    default_detail = "A parameter's code and kind never change once created."


class CommissionOverlap(DomainError):
    code = "commission_overlap"
    status = 409
    default_detail = "An active commission structure already covers this commodity, trade type and party."


def from_validation_error(exc: ValidationError, *, prefix: str = "") -> DomainError:
    """A Django ValidationError (from `full_clean`) as a DomainError with field errors.

    Only uniqueness violations -> 409 `master_data_duplicate`; anything else -> 400.
    """
    errors: list[dict[str, Any]] = []
    only_unique = True
    by_field = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for field, field_errors in by_field.items():
        for error in field_errors:
            code = error.code or "invalid"
            if code not in {"unique", "unique_together", "unique_constraint"}:
                only_unique = False
            message = " ".join(error.messages) if hasattr(error, "messages") else str(error)
            if field == NON_FIELD_ERRORS:
                # A unique constraint on (parent, code) is reported on the whole row: name the
                # field that clashes (the last of the unique fields) so clients can point at it.
                unique_fields = (error.params or {}).get("unique_check") or ()
                attr = f"{prefix}{unique_fields[-1]}" if unique_fields else None
            else:
                attr = f"{prefix}{field}"
            errors.append({"attr": attr, "code": code, "detail": message})
    cls: type[DomainError] = MasterDataDuplicate if errors and only_unique else MasterDataInvalid
    first = errors[0]["detail"] if errors else None
    return cls(first, errors=errors)
