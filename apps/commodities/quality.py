"""Quality values and buyer specifications against a commodity's typed parameters.

- `validate_quality(commodity, values)`: an offer's measured values -> cleaned values (Decimal
  for NUMERIC, the grade string for GRADE), or `QualityInvalid` (400, `quality_invalid`) whose
  `errors` name each problem with attr `quality.<code>`: `required`, `unknown_parameter`,
  `not_a_number`, `out_of_range`, `not_a_grade`, `grade_not_allowed`.
- `validate_spec(commodity, spec)`: a requirement's spec per parameter, any of `min`, `max`,
  `preferred`, `exact` (NUMERIC or GRADE) and `accepted` (GRADE: a list) -> cleaned spec, or
  `SpecInvalid` (400, `spec_invalid`) with attrs `spec.<code>` / `spec.<code>.<key>`.
- `check_spec(commodity, spec, values)`: the mismatches of values against a spec. A value
  outside `min`/`max`/`exact`/`accepted` is a hard mismatch; differing from `preferred` never
  is. A value the spec constrains but the offer does not state is a `missing` mismatch, hard
  when the spec has a hard constraint on it (the buyer's condition cannot be shown to hold).

Parameters are read from `commodity.parameters.all()`, so a prefetched commodity costs no
query. Inactive parameters are unknown. Floats are refused with TypeError (see conversions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.commodities.errors import QualityInvalid, SpecInvalid
from apps.commodities.models import Commodity, ParameterKind, QualityParameter
from apps.core.numbers import parse_plain_decimal

QualityValue = Decimal | str

SPEC_KEYS = ("min", "max", "preferred", "exact", "accepted")
HARD_KEYS = frozenset({"min", "max", "exact", "accepted"})


@dataclass(frozen=True)
class Mismatch:
    parameter: str
    constraint: str  # min, max, exact, accepted, preferred or missing
    expected: Any
    value: QualityValue | None
    hard: bool
    detail: str


def active_parameters(commodity: Commodity) -> dict[str, QualityParameter]:
    """The commodity's active parameters by code, in display order."""
    params = sorted(commodity.parameters.all(), key=lambda p: (p.order, p.code))
    return {p.code: p for p in params if p.is_active}


def parse_number(value: object) -> Decimal | None:
    """A finite Decimal from a Decimal, int or plain decimal string ("1_000", "1e3", "NaN" are
    not numbers: core.numbers); None when it is not a number. Floats raise TypeError."""
    return parse_plain_decimal(value)


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _range_text(parameter: QualityParameter) -> str:
    unit = f" {parameter.unit}" if parameter.unit else ""
    if parameter.min_value is not None and parameter.max_value is not None:
        return f"{_fmt(parameter.min_value)} to {_fmt(parameter.max_value)}{unit}"
    if parameter.min_value is not None:
        return f"at least {_fmt(parameter.min_value)}{unit}"
    return f"at most {_fmt(parameter.max_value)}{unit}"


def _in_range(parameter: QualityParameter, number: Decimal) -> bool:
    low, high = parameter.min_value, parameter.max_value
    return (low is None or number >= low) and (high is None or number <= high)


def _error(attr: str, code: str, detail: str) -> dict[str, str]:
    return {"attr": attr, "code": code, "detail": detail}


def _clean_value(
    parameter: QualityParameter, raw: object, attr: str
) -> tuple[QualityValue | None, dict[str, str] | None]:
    """One value for one parameter: (cleaned, None) or (None, error)."""
    if parameter.kind == ParameterKind.NUMERIC:
        number = parse_number(raw)
        if number is None:
            return None, _error(attr, "not_a_number", f"{parameter.name} must be a number, not {raw!r}.")
        if not _in_range(parameter, number):
            return None, _error(
                attr, "out_of_range", f"{parameter.name} must be {_range_text(parameter)}; got {_fmt(number)}."
            )
        return number, None
    if isinstance(raw, float):
        raise TypeError("quality values must be Decimal, int or str, not float")
    if not isinstance(raw, str):
        return None, _error(attr, "not_a_grade", f"{parameter.name} is one of a list of grades, given as text.")
    grade = raw.strip()
    if grade not in parameter.allowed_values:
        allowed = ", ".join(parameter.allowed_values)
        return None, _error(attr, "grade_not_allowed", f"{parameter.name} must be one of {allowed}; got {grade!r}.")
    return grade, None


def validate_quality(
    commodity: Commodity, values: Mapping[str, Any], *, partial: bool = False
) -> dict[str, QualityValue]:
    """Clean an offer's quality values. `partial=True` allows leaving out mandatory parameters
    (a price check on the parameters at hand). Empty values (None, "") count as not given."""
    if not isinstance(values, Mapping):
        raise QualityInvalid.for_field("quality", "Quality values are an object of parameter codes to values.")
    parameters = active_parameters(commodity)
    errors: list[dict[str, str]] = []
    cleaned: dict[str, QualityValue] = {}
    for code, parameter in parameters.items():
        raw = values.get(code)
        attr = f"quality.{code}"
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if parameter.is_mandatory and not partial:
                errors.append(_error(attr, "required", f"{parameter.name} is mandatory for {commodity.code}."))
            continue
        value, error = _clean_value(parameter, raw, attr)
        if error is not None:
            errors.append(error)
        elif value is not None:
            cleaned[code] = value
    for code in values:
        if code not in parameters:
            errors.append(
                _error(f"quality.{code}", "unknown_parameter", f"{commodity.code} has no quality parameter {code!r}.")
            )
    if errors:
        raise QualityInvalid(errors[0]["detail"], errors=errors)
    return cleaned


def _spec_number(parameter: QualityParameter, raw: object, attr: str, errors: list[dict[str, str]]) -> Decimal | None:
    number = parse_number(raw)
    if number is None:
        errors.append(_error(attr, "not_a_number", f"Must be a number, not {raw!r}."))
        return None
    if not _in_range(parameter, number):
        errors.append(
            _error(attr, "out_of_range", f"{parameter.name} is {_range_text(parameter)}; got {_fmt(number)}.")
        )
        return None
    return number


def _spec_grade(parameter: QualityParameter, raw: object, attr: str, errors: list[dict[str, str]]) -> str | None:
    if not isinstance(raw, str) or raw.strip() not in parameter.allowed_values:
        allowed = ", ".join(parameter.allowed_values)
        errors.append(_error(attr, "grade_not_allowed", f"{parameter.name} is one of {allowed}; got {raw!r}."))
        return None
    return raw.strip()


def _clean_numeric_spec(
    parameter: QualityParameter, constraints: Mapping[str, Any], attr: str, errors: list[dict[str, str]]
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "accepted" in constraints:
        errors.append(_error(f"{attr}.accepted", "accepted_not_allowed", "`accepted` lists grades; use min/max."))
    for key in ("min", "max", "preferred", "exact"):
        if key in constraints:
            number = _spec_number(parameter, constraints[key], f"{attr}.{key}", errors)
            if number is not None:
                cleaned[key] = number
    low, high = cleaned.get("min"), cleaned.get("max")
    if low is not None and high is not None and low > high:
        errors.append(_error(f"{attr}.min", "min_above_max", f"min {_fmt(low)} is above max {_fmt(high)}."))
    if "exact" in constraints and ("min" in constraints or "max" in constraints):
        errors.append(_error(f"{attr}.exact", "conflicting", "`exact` excludes `min` and `max`."))
    preferred = cleaned.get("preferred")
    if preferred is not None:
        if (low is not None and preferred < low) or (high is not None and preferred > high):
            errors.append(_error(f"{attr}.preferred", "preferred_outside_range", "`preferred` lies outside min/max."))
        if "exact" in cleaned and preferred != cleaned["exact"]:
            errors.append(_error(f"{attr}.preferred", "conflicting", "`preferred` differs from `exact`."))
    return cleaned


def _clean_grade_spec(
    parameter: QualityParameter, constraints: Mapping[str, Any], attr: str, errors: list[dict[str, str]]
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key in ("min", "max"):
        if key in constraints:
            errors.append(_error(f"{attr}.{key}", "range_not_allowed", f"{parameter.name} is a grade: use accepted."))
    for key in ("preferred", "exact"):
        if key in constraints:
            grade = _spec_grade(parameter, constraints[key], f"{attr}.{key}", errors)
            if grade is not None:
                cleaned[key] = grade
    if "accepted" in constraints:
        raw = constraints["accepted"]
        if not isinstance(raw, list) or not raw:
            errors.append(_error(f"{attr}.accepted", "not_a_list", "`accepted` is a non-empty list of grades."))
        else:
            grades = [_spec_grade(parameter, item, f"{attr}.accepted", errors) for item in raw]
            if len(set(grades)) != len(grades):
                errors.append(_error(f"{attr}.accepted", "duplicate", "`accepted` lists a grade twice."))
            cleaned["accepted"] = [g for g in grades if g is not None]
        if "exact" in constraints:
            errors.append(_error(f"{attr}.exact", "conflicting", "`exact` excludes `accepted`."))
        preferred = cleaned.get("preferred")
        if preferred is not None and preferred not in cleaned.get("accepted", []):
            errors.append(_error(f"{attr}.preferred", "preferred_not_accepted", "`preferred` is not among accepted."))
    if "exact" in cleaned and "preferred" in cleaned and cleaned["exact"] != cleaned["preferred"]:
        errors.append(_error(f"{attr}.preferred", "conflicting", "`preferred` differs from `exact`."))
    return cleaned


def validate_spec(commodity: Commodity, spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Clean a buyer's spec: `{parameter_code: {"min"|"max"|"preferred"|"exact"|"accepted": ...}}`."""
    if not isinstance(spec, Mapping):
        raise SpecInvalid.for_field("spec", "A spec is an object of parameter codes to constraints.")
    parameters = active_parameters(commodity)
    errors: list[dict[str, str]] = []
    cleaned: dict[str, dict[str, Any]] = {}
    for code, constraints in spec.items():
        attr = f"spec.{code}"
        parameter = parameters.get(code)
        if parameter is None:
            errors.append(_error(attr, "unknown_parameter", f"{commodity.code} has no quality parameter {code!r}."))
            continue
        if not isinstance(constraints, Mapping) or not constraints:
            errors.append(_error(attr, "no_constraints", f"Give any of {', '.join(SPEC_KEYS)}."))
            continue
        unknown = [key for key in constraints if key not in SPEC_KEYS]
        for key in unknown:
            errors.append(_error(f"{attr}.{key}", "unknown_key", f"Unknown constraint; use {', '.join(SPEC_KEYS)}."))
        if parameter.kind == ParameterKind.NUMERIC:
            cleaned[code] = _clean_numeric_spec(parameter, constraints, attr, errors)
        else:
            cleaned[code] = _clean_grade_spec(parameter, constraints, attr, errors)
    if errors:
        raise SpecInvalid(errors[0]["detail"], errors=errors)
    order = list(parameters)
    return {code: cleaned[code] for code in sorted(cleaned, key=order.index)}


def check_spec(commodity: Commodity, spec: Mapping[str, Any], values: Mapping[str, Any]) -> list[Mismatch]:
    """The mismatches of quality `values` against a buyer's `spec`, in parameter order.

    Validates both first (SpecInvalid, QualityInvalid). Hard mismatches exclude the offer;
    soft ones (`preferred`, or `missing` under a spec of only `preferred`) only lower a score.
    """
    cleaned_spec = validate_spec(commodity, spec)
    cleaned = validate_quality(commodity, values, partial=True)
    mismatches: list[Mismatch] = []
    for code, constraints in cleaned_spec.items():
        value = cleaned.get(code)
        if value is None:
            hard = bool(HARD_KEYS & constraints.keys())
            mismatches.append(Mismatch(code, "missing", None, None, hard, f"The offer does not state {code}."))
            continue
        checks: list[tuple[str, bool]] = []
        if "exact" in constraints:
            checks.append(("exact", value == constraints["exact"]))
        if "min" in constraints and isinstance(value, Decimal):
            checks.append(("min", value >= constraints["min"]))
        if "max" in constraints and isinstance(value, Decimal):
            checks.append(("max", value <= constraints["max"]))
        if "accepted" in constraints:
            checks.append(("accepted", value in constraints["accepted"]))
        if "preferred" in constraints:
            checks.append(("preferred", value == constraints["preferred"]))
        for key, ok in checks:
            if not ok:
                expected = constraints[key]
                shown = _fmt(value) if isinstance(value, Decimal) else value
                mismatches.append(
                    Mismatch(code, key, expected, value, key in HARD_KEYS, f"{code} {shown} fails {key} {expected}.")
                )
    return mismatches
