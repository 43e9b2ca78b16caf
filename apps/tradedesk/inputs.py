"""Cleaning a posting's input: what the requirement and availability services share.

`Inputs(error, noun=...)` holds the primitives that read one field of the raw input (a Mapping
of what the client sent, or the stored values when a change is validated again) and refuse it
with `error(attr, code, detail)`: each posting keeps its own error (RequirementInvalid,
AvailabilityInvalid, both `errors.PostingInvalid`) and so its own top-level code, while the rule
codes (not_a_number, too_many_decimals, commodity_invalid, term_invalid, ...) are the same for
both. `noun` only names the posting in a few sentences.

The rest are plain functions: units with the factor used (`UnitFactor`), the price per kg, and
the JSON-safe forms of Decimals and instants the snapshots and event payloads are made of.

Where the postings differ on purpose the difference is a parameter: a unit with a default (an
availability falls back to the commodity's trade and rate units) or required (a requirement
names its units); dates (a requirement's delivery window) and date-times (everybody's validity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.commodities.conversions import exact, resolve_unit, round_half_up
from apps.commodities.models import Commodity, TradeTerm, Unit, Variety
from apps.core.numbers import parse_plain_decimal
from apps.partners.errors import PartnerNotFound
from apps.partners.models import BusinessPartner
from apps.tradedesk.errors import PostingInvalid
from apps.tradedesk.models import Visibility

CalendarDate = date  # `Inputs.date` shadows the name inside the class

PER_KG_PLACES = 4
UNIT_KEYS = ("quantity_unit", "price_unit")


@dataclass
class UnitFactor:
    """A unit with the factor used: the master's for a unit just entered, the one stored on the
    posting otherwise (a unit's factor in the master may have moved since)."""

    unit: Unit
    code: str
    factor_to_kg: Decimal

    @classmethod
    def of(cls, unit: Unit) -> UnitFactor:
        return cls(unit, unit.code, unit.factor_to_kg)

    @classmethod
    def stored(cls, unit: Unit, factor_to_kg: Decimal) -> UnitFactor:
        return cls(unit, unit.code, factor_to_kg)


@dataclass
class Cleaned:
    """A posting's input after cleaning: model field values (related objects for the foreign
    keys) and the partners it invites."""

    fields: dict[str, Any]
    invited: list[BusinessPartner] = field(default_factory=list)


# --- JSON-safe values -----------------------------------------------------------------------------


def plain(value: Decimal) -> str:
    """A Decimal as a string without exponent or trailing zeros: 4.20 -> "4.2"."""
    return f"{value.normalize():f}"


def jsonable(value: Any) -> Any:
    """Quality values and specs as stored: Decimals as plain strings, in nested dicts and lists."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


def dec(value: Decimal | int | None, places: int) -> str | None:
    """A Decimal with exactly `places` decimals, as a string (None stays None)."""
    return None if value is None else str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def instant(value: datetime | None) -> str | None:
    """An aware datetime in UTC, ISO 8601 (None stays None)."""
    return None if value is None else value.astimezone(UTC).isoformat()


def per_kg(price: Decimal, unit: UnitFactor) -> Decimal:
    """The price per kg: price / factor, exact, rounded once (half up) to 4 places."""
    return round_half_up(exact(price, name="price") / exact(unit.factor_to_kg, name="factor"), PER_KG_PLACES)


# --- reads and merges -----------------------------------------------------------------------------


def posting_partner(partner_id: UUID) -> BusinessPartner:
    """The partner a posting is for, with its organization (404 partner_not_found)."""
    partner = BusinessPartner.objects.select_related("organization").filter(pk=partner_id).first()
    if partner is None:
        raise PartnerNotFound()
    return partner


def merged_inputs(current: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A posting's stored inputs (`current`, units as `UnitFactor`s with the stored factors)
    with `changes` applied, to be cleaned again as a whole. A unit entered again under the same
    code keeps the factor stored on the row; a visibility other than RESTRICTED drops the
    invitees unless the change names them."""
    changes = dict(changes)
    for key in UNIT_KEYS:
        entered = changes.get(key)
        if isinstance(entered, str) and entered.strip().upper() == current[key].code:
            del changes[key]
    if "visibility" in changes and changes["visibility"] != Visibility.RESTRICTED:
        current["invited_partner_ids"] = []
    current.update(changes)
    return current


# --- one field at a time --------------------------------------------------------------------------


class Inputs:
    """The field primitives of one kind of posting: every refusal is `error(attr, code, detail)`;
    `noun` ("requirement", "availability") names the posting in messages."""

    def __init__(self, error: type[PostingInvalid], *, noun: str) -> None:
        self.error = error
        self.noun = noun

    def uuid(self, raw: object, attr: str, code: str) -> UUID:
        if isinstance(raw, UUID):
            return raw
        try:
            return UUID(str(raw))
        except (TypeError, ValueError, AttributeError):
            raise self.error(attr, code, f"{raw!r} is not an id.") from None

    def number(self, raw: object, attr: str, *, places: int, max_digits: int) -> Decimal:
        """A Decimal with at most `places` decimals and `max_digits` digits; floats are refused
        (TypeError: a caller's bug, the API turns JSON numbers into Decimals first)."""
        if isinstance(raw, float):
            raise TypeError(f"{attr} must be a Decimal, int or str, not float")
        if isinstance(raw, bool) or raw is None:
            raise self.error(attr, "not_a_number", f"{attr} must be a number.")
        if isinstance(raw, Decimal):
            value = raw
        else:
            # Plain decimals only: Decimal() alone would read "1_000" as 1000 (core.numbers).
            parsed = parse_plain_decimal(raw if isinstance(raw, int | str) else str(raw))
            if parsed is None:
                raise self.error(attr, "not_a_number", f"{attr} must be a number, not {raw!r}.")
            value = parsed
        if not value.is_finite():
            raise self.error(attr, "not_a_number", f"{attr} must be a finite number.")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise self.error(attr, "too_many_decimals", f"{attr} has at most {places} decimals; got {value}.")
        if abs(value) >= Decimal(10) ** (max_digits - places):
            raise self.error(attr, "too_large", f"{attr} is too large: {value}.")
        return value

    def date(self, raw: object, attr: str) -> date:
        """A calendar date (a date or YYYY-MM-DD); a datetime is refused, not truncated."""
        if isinstance(raw, datetime):
            raise self.error(attr, "not_a_date", f"{attr} is a date (YYYY-MM-DD), not a date and time.")
        if isinstance(raw, date):
            return self._within_range(raw, attr)
        try:
            parsed = parse_date(raw) if isinstance(raw, str) else None
        except ValueError:  # well formed but not a day (2026-02-30)
            parsed = None
        if parsed is None:
            raise self.error(attr, "not_a_date", f"{attr} must be a date (YYYY-MM-DD).")
        return self._within_range(parsed, attr)

    def _within_range(self, day: CalendarDate, attr: str) -> CalendarDate:
        """Dates within INPUT_DATES_MAX_PAST_DAYS before and INPUT_DATES_MAX_FUTURE_DAYS after
        today: year 9999 or 0001 is a typo or a probe, never a delivery date (issue 14)."""
        today = timezone.localdate()
        earliest = today - timedelta(days=settings.INPUT_DATES_MAX_PAST_DAYS)
        latest = today + timedelta(days=settings.INPUT_DATES_MAX_FUTURE_DAYS)
        if not earliest <= day <= latest:
            raise self.error(attr, "date_out_of_range", f"{attr} must lie between {earliest} and {latest}.")
        return day

    def datetime(self, raw: object, attr: str) -> datetime:
        """An aware date and time (a datetime or ISO 8601 with its offset); naive ones are refused."""
        try:
            parsed = raw if isinstance(raw, datetime) else parse_datetime(raw) if isinstance(raw, str) else None
        except ValueError:  # well formed but not a time (25:00, an offset of a day)
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            raise self.error(attr, "not_a_datetime", f"{attr} must be a date and time with its UTC offset.")
        self._within_range(timezone.localtime(parsed).date(), attr)
        return parsed

    def required(self, raw: Mapping[str, Any], key: str) -> Any:
        value = raw.get(key)
        if value is None or value == "":
            raise self.error(key, "required", f"{key} is required.")
        return value

    def flag(self, raw: Mapping[str, Any], key: str, default: bool) -> bool:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, "not_a_boolean", f"{key} is true or false.")
        return value

    def unit(self, raw: object, attr: str, *, default: Unit | None) -> UnitFactor:
        """A unit code (or a `UnitFactor` kept from the row). With a `default` a missing code
        means the default and anything but a string is unknown_unit; without one the code is
        required."""
        if isinstance(raw, UnitFactor):
            return raw
        if default is not None:
            if raw is None or raw == "":
                return UnitFactor.of(default)
            if not isinstance(raw, str):
                raise self.error(attr, "unknown_unit", f"{attr} is a unit code such as BALE or CANDY.")
        elif not isinstance(raw, str) or not raw.strip():
            raise self.error(attr, "required", f"{attr} is required (a unit code such as BALE or CANDY).")
        return UnitFactor.of(cast(Unit, resolve_unit(raw, field=attr)))

    def commodity(self, raw: Mapping[str, Any], current_id: UUID | None) -> Commodity:
        """An active commodity (the posting's own may have been deactivated since), with its
        units and quality parameters."""
        commodity_id = self.uuid(self.required(raw, "commodity_id"), "commodity_id", "commodity_invalid")
        commodities = Commodity.objects.select_related("trade_unit", "rate_unit").prefetch_related("parameters")
        commodities = commodities.filter(pk=commodity_id)
        if commodity_id != current_id:
            commodities = commodities.filter(is_active=True)
        commodity = commodities.first()
        if commodity is None:
            raise self.error("commodity_id", "commodity_invalid", "No active commodity has this id.")
        return commodity

    def variety(self, raw: Mapping[str, Any], commodity: Commodity, current_id: UUID | None) -> Variety | None:
        if raw.get("variety_id") in (None, ""):
            return None
        variety_id = self.uuid(raw["variety_id"], "variety_id", "variety_invalid")
        varieties = Variety.objects.filter(pk=variety_id, commodity_id=commodity.pk)
        if variety_id != current_id:
            varieties = varieties.filter(is_active=True)
        variety = varieties.first()
        if variety is None:
            raise self.error("variety_id", "variety_invalid", f"This is not an active variety of {commodity.code}.")
        return variety

    def term(self, raw: Mapping[str, Any], key: str, kind: str, current_id: UUID | None) -> TradeTerm | None:
        """An active trade term of `kind` (the posting's own may have been deactivated since)."""
        if raw.get(key) in (None, ""):
            return None
        term_id = self.uuid(raw[key], key, "term_invalid")
        terms = TradeTerm.objects.filter(pk=term_id, kind=kind)
        if term_id != current_id:
            terms = terms.filter(is_active=True)
        term = terms.first()
        if term is None:
            raise self.error(key, "term_invalid", f"{key} must be an active {kind.lower()} term.")
        return term

    def choice(self, raw: Mapping[str, Any], key: str, choices: Iterable[str], default: str) -> str:
        value = raw.get(key) or default
        allowed = list(choices)
        if value not in allowed:
            raise self.error(key, f"{key}_invalid", f"{key} is one of {', '.join(allowed)}; got {value!r}.")
        return str(value)

    def invited(self, raw: Mapping[str, Any], visibility: str, partner: BusinessPartner) -> list[BusinessPartner]:
        """The partners a RESTRICTED posting invites: at least one, all of the poster's
        organization, not the poster; PUBLIC and PRIVATE postings invite nobody."""
        attr, code = "invited_partner_ids", "invited_partners_invalid"
        ids = raw.get(attr) or []
        if not isinstance(ids, (list, tuple)):
            raise self.error(attr, code, "invited_partner_ids is a list of ids.")
        if visibility != Visibility.RESTRICTED:
            if ids:
                raise self.error(
                    attr,
                    code,
                    f"Only a RESTRICTED {self.noun} invites partners; PUBLIC and PRIVATE ones invite nobody.",
                )
            return []
        if not ids:
            raise self.error(attr, code, f"A RESTRICTED {self.noun} invites at least one partner.")
        wanted = {self.uuid(raw_id, attr, code) for raw_id in ids}
        found = list(
            BusinessPartner.objects.filter(pk__in=wanted, organization_id=partner.organization_id)
            .exclude(pk=partner.pk)
            .order_by("pk")
        )
        if len(found) != len(wanted):
            raise self.error(
                attr, code, "Invite other partners of your organization only (an id is unknown, foreign or your own)."
            )
        return found
