"""The anonymous market (SPEC section 7): the postings partners of one organization see of each
other, and what they see of them.

Who sees what:

- A partner user (an active member of a partner of the organization, whatever its role or the
  partner's status: reading is allowed) sees the organization's live postings that are PUBLIC,
  and RESTRICTED ones its partner is invited to; never PRIVATE ones, never its own (they are in
  its `availabilities/` and `requirements/` lists, in full), never another organization's.
- Staff of the organization with tradedesk.view_availability / view_requirement see every live
  posting of their organization, PRIVATE ones too, with the poster named; platform admins see
  every organization's. Staff without the capability: 403.
- Anyone else (an applicant without a partner, a partner of another organization's user record
  in an inconsistent state): 403 market_closed.

Live: an availability ACTIVE with something available and not expired; a requirement ACTIVE or
PARTIALLY_FULFILLED inside its validity (valid_from <= now < valid_until).

What a partner sees of a posting: commodity, variety, quantities, prices, quality (or spec),
state code, state name and region, terms, windows, visibility and a rating band (A/B/C/D from
the poster's risk category LOW/MEDIUM/HIGH/CRITICAL, UNRATED without one), under the posting's
own id. Never the poster's name, id, code, branch, location, address, phone, users, invitees or
the posting's document number. The selectors make that structural: a partner's queryset
carries `poster = NULL` from the database and the serializers read nothing of the partner but
the band computed in SQL. The live feed (realtime.py) sends the same allow-listed fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    JSONField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import JSONObject
from django.utils import timezone

from apps.accounts.models import User, UserType
from apps.commodities.models import Commodity, ParameterKind, TradeTerm, Unit, Variety
from apps.core.errors import PermissionDenied
from apps.core.india import STATES_BY_CODE
from apps.core.sql import execute_prepared
from apps.organizations.errors import FieldInvalid
from apps.partners.caller import caller_partner
from apps.partners.models import RiskCategory
from apps.tradedesk.models import (
    Availability,
    AvailabilityStatus,
    Requirement,
    RequirementStatus,
    Visibility,
)
from apps.tradedesk.quality_statistics import FUNCTION

VIEW_AVAILABILITY = "tradedesk.view_availability"
VIEW_REQUIREMENT = "tradedesk.view_requirement"

LISTED_AVAILABILITY_STATES = (AvailabilityStatus.ACTIVE,)
LISTED_REQUIREMENT_STATES = (RequirementStatus.ACTIVE, RequirementStatus.PARTIALLY_FULFILLED)

_KG: DecimalField[Any, Any] = DecimalField(max_digits=16, decimal_places=3)

UNRATED = "UNRATED"
RATING_BANDS = {
    RiskCategory.LOW: "A",
    RiskCategory.MEDIUM: "B",
    RiskCategory.HIGH: "C",
    RiskCategory.CRITICAL: "D",
}


class MarketClosed(PermissionDenied):
    code = "market_closed"
    default_detail = "The market is open to the organization's partners and its staff."


def rating_band(risk_category: str | None) -> str:
    return RATING_BANDS.get(risk_category or "", UNRATED)  # type: ignore[call-overload]


def state_name(state_code: str) -> str:
    state = STATES_BY_CODE.get(state_code or "")
    return state.name if state is not None else ""


def _rating_band_sql() -> Case:
    return Case(
        *(When(partner__risk_category=category, then=Value(band)) for category, band in RATING_BANDS.items()),
        default=Value(UNRATED),
        output_field=CharField(),
    )


# --- who is looking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketViewer:
    """`organization_id` None: every organization (a platform admin). `partner_id` None: staff."""

    organization_id: UUID | None
    partner_id: UUID | None

    @property
    def is_staff(self) -> bool:
        return self.partner_id is None


def market_viewer(user: User, *, staff_perm: str) -> MarketViewer:
    """The caller as a market reader (403 market_closed / permission_denied otherwise)."""
    if user.user_type == UserType.SUPER_ADMIN:
        return MarketViewer(organization_id=None, partner_id=None)
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        if not user.has_perm(staff_perm):
            raise PermissionDenied(f"Reading the market needs the {staff_perm} capability.")
        return MarketViewer(organization_id=user.organization_id, partner_id=None)
    # Read once per caller version (partners/caller.py): a membership or partner change replaces it.
    membership = caller_partner(user)
    if membership is None or user.organization_id is None or membership.organization_id != user.organization_id:
        raise MarketClosed()
    return MarketViewer(organization_id=user.organization_id, partner_id=membership.partner_id)


def _poster_sql(viewer: MarketViewer) -> Any:
    """Who posted it, for staff only; NULL from the database for partners."""
    if not viewer.is_staff:
        return Value(None, output_field=JSONField())
    return JSONObject(
        partner_id=F("partner_id"),
        partner_code=F("partner__code"),
        partner_legal_name=F("partner__legal_name"),
        number=F("number"),
    )


def _visible_to_partner(model: type[Availability] | type[Requirement], partner_id: UUID) -> Q:
    invited = model.invited_partners.through.objects.filter(  # type: ignore[attr-defined]
        **{f"{model._meta.model_name}_id": OuterRef("pk"), "businesspartner_id": partner_id}
    )
    return Q(visibility=Visibility.PUBLIC) | Q(Exists(invited), visibility=Visibility.RESTRICTED)


def market_availabilities(viewer: MarketViewer, *, now: datetime | None = None) -> QuerySet[Availability]:
    """The live availabilities `viewer` may see on the market, with what the output shows (one
    query per page: the relations are joined, the band and the poster computed in SQL)."""
    now = now or timezone.now()
    rows = Availability.objects.filter(status__in=LISTED_AVAILABILITY_STATES, available_kg__gt=0, expires_at__gt=now)
    if viewer.organization_id is not None:
        rows = rows.filter(organization_id=viewer.organization_id)
    if viewer.partner_id is not None:
        rows = rows.filter(_visible_to_partner(Availability, viewer.partner_id)).exclude(partner_id=viewer.partner_id)
    return rows.select_related("commodity", "variety", "quantity_unit", "price_unit", "delivery_term").annotate(
        rating_band=_rating_band_sql(), poster=_poster_sql(viewer)
    )


def market_requirements(viewer: MarketViewer, *, now: datetime | None = None) -> QuerySet[Requirement]:
    """The live requirements `viewer` may see on the market (as market_availabilities)."""
    now = now or timezone.now()
    rows = Requirement.objects.filter(
        status__in=LISTED_REQUIREMENT_STATES, valid_from__lte=now, valid_until__gt=now, fulfilled_kg__lt=F("max_kg")
    )
    if viewer.organization_id is not None:
        rows = rows.filter(organization_id=viewer.organization_id)
    if viewer.partner_id is not None:
        rows = rows.filter(_visible_to_partner(Requirement, viewer.partner_id)).exclude(partner_id=viewer.partner_id)
    return rows.select_related(
        "commodity", "variety", "quantity_unit", "price_unit", "payment_term", "delivery_term"
    ).annotate(
        rating_band=_rating_band_sql(),
        poster=_poster_sql(viewer),
        remaining_kg=ExpressionWrapper(F("max_kg") - F("fulfilled_kg"), output_field=_KG),
    )


# --- a page as plain rows -------------------------------------------------------------------------

# The columns a market row shows, read with `.values()` (no model instances): the codes of the
# commodity, variety, units and terms under their own names, next to the band and the poster.
# The codes are scalar subqueries by primary key rather than joins: PostgreSQL evaluates them for
# the page's rows only (an index probe each), and planning a six-way join cost more than running
# the whole page (about 9 ms of planning against 0.3 ms for 5,000 offers; 0.3 ms this way).
_POSTING_COLUMNS = (
    "id",
    "commodity_id",
    "variety_id",
    "currency",
    "delivery_term_id",
    "visibility",
    "state_code",
    "region",
    "rating_band",
    "poster",
    "created_at",
    "status",
)


def _code_of(model: type[Model], column: str) -> Subquery:
    return Subquery(model._default_manager.filter(pk=OuterRef(column)).values("code")[:1])


def _posting_codes() -> dict[str, Subquery]:
    return {
        "commodity_code": _code_of(Commodity, "commodity_id"),
        "variety_code": _code_of(Variety, "variety_id"),
        "quantity_unit_code": _code_of(Unit, "quantity_unit_id"),
        "price_unit_code": _code_of(Unit, "price_unit_id"),
        "delivery_term_code": _code_of(TradeTerm, "delivery_term_id"),
    }


AVAILABILITY_COLUMNS = (
    *_POSTING_COLUMNS,
    "quantity",
    "total_kg",
    "available_kg",
    "min_order_kg",
    "partial_allowed",
    "price",
    "price_per_kg",
    "quality",
    "available_from",
    "available_until",
    "day_only",
    "expires_at",
)
REQUIREMENT_COLUMNS = (
    *_POSTING_COLUMNS,
    "min_quantity",
    "max_quantity",
    "preferred_quantity",
    "min_kg",
    "max_kg",
    "preferred_kg",
    "fulfilled_kg",
    "remaining_kg",
    "spec",
    "max_price",
    "preferred_price",
    "max_price_per_kg",
    "preferred_price_per_kg",
    "payment_term_id",
    "urgency",
    "delivery_from",
    "delivery_until",
    "valid_from",
    "valid_until",
    "published_at",
)


def market_availability_rows(rows: QuerySet[Availability]) -> QuerySet[Any]:
    """`rows` (of market_availabilities, filtered) as dicts of exactly what a market row shows."""
    return rows.values(*AVAILABILITY_COLUMNS, **_posting_codes())


def market_requirement_rows(rows: QuerySet[Requirement]) -> QuerySet[Any]:
    """`rows` (of market_requirements, filtered) as dicts of exactly what a market row shows."""
    return rows.values(
        *REQUIREMENT_COLUMNS, **_posting_codes(), payment_term_code=_code_of(TradeTerm, "payment_term_id")
    )


# --- filters --------------------------------------------------------------------------------------

# Query parameters `quality.<code>.min`, `quality.<code>.max` (NUMERIC parameters, inclusive)
# and `quality.<code>` (a GRADE value, exact).
QUALITY_CODE_PATTERN = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
QUALITY_CODE = re.compile(QUALITY_CODE_PATTERN)
QUALITY_PARAM = re.compile(rf"^quality\.(?P<code>{QUALITY_CODE_PATTERN})(?:\.(?P<bound>min|max))?$")
QUALITY_PREFIX = "quality."
# Values in `quality` are strings written by the services; a value that is not a plain decimal
# (a grade under the same code in another commodity) reads as NULL rather than failing the query.
_QUALITY_VALUE: DecimalField[Any, Any] = DecimalField(max_digits=24, decimal_places=8)


@dataclass
class QualityFilter:
    code: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    grade: str | None = None


@dataclass
class MarketFilters:
    commodity: str | None = None  # an id or a code
    variety: str | None = None  # an id or a code
    price_per_kg_min: Decimal | None = None
    price_per_kg_max: Decimal | None = None
    state_code: str | None = None
    region: str | None = None
    min_available_kg: Decimal | None = None  # availabilities
    quantity_kg: Decimal | None = None  # requirements
    urgency: str | None = None  # requirements
    quality: list[QualityFilter] = field(default_factory=list)  # availabilities


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _decimal(attr: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or abs(value) >= Decimal("1e15"):
        raise FieldInvalid(attr, "invalid", f"{attr} must be a decimal number; got {raw[:40]!r}.")
    return value


_PARAMETER_KINDS_SQL = """
SELECT q.code, q.kind FROM commodities_qualityparameter q
WHERE q.code = ANY(%(codes)s) AND q.is_active{commodity}"""
_PARAMETER_OF_COMMODITY = {
    "id": " AND q.commodity_id = %(commodity)s",
    "code": " AND q.commodity_id IN (SELECT c.id FROM commodities_commodity c WHERE c.code = %(commodity)s)",
    None: "",
}


def _parameter_kinds_sql(codes: list[str], commodity: str | None, params: dict[str, Any], *, prefix: str = "") -> str:
    """_PARAMETER_KINDS_SQL for `codes` of `commodity` (an id, a code or None: any), its values
    added to `params` under `prefix`ed names."""
    which: str | None = None
    params[f"{prefix}codes"] = codes
    if commodity is not None:
        which = "id" if _is_uuid(commodity) else "code"
        params[f"{prefix}commodity"] = UUID(commodity) if which == "id" else commodity
    sql = _PARAMETER_KINDS_SQL.format(commodity=_PARAMETER_OF_COMMODITY[which])
    return sql.replace("%(codes)s", f"%({prefix}codes)s").replace("%(commodity)s", f"%({prefix}commodity)s")


def quality_parameter_kinds(codes: list[str], *, commodity: str | None) -> dict[str, set[str]]:
    """The kinds (NUMERIC, GRADE) of the active quality parameters named `codes`, of the commodity
    given (an id or a code) or of any. One hand-written statement: the ORM's queryset of the same
    (held equal by test_market_raw_filters.py) cost the filtered page about as much as its rows
    (issue 15: a filtered page within 1.5x of the first page)."""
    params: dict[str, Any] = {}
    sql = _parameter_kinds_sql(codes, commodity, params)
    with connection.cursor() as cursor:
        # Prepared, each set of codes its own statement (filters repeat: a page, then the next).
        execute_prepared(cursor, sql, params, bound=())
        return _kinds(cursor.fetchall())


def _kinds(rows: Any) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for code, kind in rows:
        kinds.setdefault(code, set()).add(kind)
    return kinds


# What a quality filter's query parameters ask: code -> [(key, "min"/"max"/None, value)], by key.
QualityWanted = dict[str, list[tuple[str, str | None, str]]]


def _quality_wanted(params: Mapping[str, str]) -> QualityWanted:
    raw = {key: value for key, value in params.items() if key.startswith(QUALITY_PREFIX)}
    wanted: QualityWanted = {}
    for key, value in sorted(raw.items()):
        match = QUALITY_PARAM.fullmatch(key)
        if match is None:
            raise FieldInvalid(
                key,
                "invalid",
                "Quality filters are quality.<parameter>.min, quality.<parameter>.max or quality.<grade parameter>.",
            )
        wanted.setdefault(match["code"], []).append((key, match["bound"], value))
    return wanted


def _quality_filters(
    wanted: QualityWanted, kinds: dict[str, set[str]], *, commodity: str | None
) -> list[QualityFilter]:
    parsed: dict[str, QualityFilter] = {}
    for code, entries in wanted.items():
        for key, bound, value in entries:
            expected = ParameterKind.NUMERIC if bound else ParameterKind.GRADE
            if expected not in kinds.get(code, set()):
                which = "of the commodity" if commodity is not None else "of any commodity"
                shape = "NUMERIC (filter with .min/.max)" if bound else "GRADE (filter with an exact value)"
                raise FieldInvalid(key, "unknown_parameter", f"{code!r} is not a {shape} quality parameter {which}.")
            entry = parsed.setdefault(code, QualityFilter(code=code))
            if bound == "min":
                entry.minimum = _decimal(key, value)
            elif bound == "max":
                entry.maximum = _decimal(key, value)
            elif "\x00" in value:  # PostgreSQL's text cannot hold it: a 400, not a driver error
                raise FieldInvalid(key, "invalid", f"{key} must not contain a NUL character.")
            else:
                entry.grade = value.strip()
        entry = parsed[code]
        if entry.minimum is not None and entry.maximum is not None and entry.minimum > entry.maximum:
            raise FieldInvalid(
                f"{QUALITY_PREFIX}{code}.max", "range_invalid", f"The maximum of {code} is below its minimum."
            )
    return list(parsed.values())


def parse_quality_filters(params: Mapping[str, str], *, commodity: str | None) -> list[QualityFilter]:
    """`quality.*` query parameters, checked against the quality parameters (of the commodity
    filtered on, else of any commodity): a NUMERIC one takes `.min`/`.max`, a GRADE one an exact
    value. One query when there are any."""
    wanted = _quality_wanted(params)
    if not wanted:
        return []
    return _quality_filters(wanted, quality_parameter_kinds(list(wanted), commodity=commodity), commodity=commodity)


@dataclass
class QualityCheck:
    """The check of quality filters' parameters still to make: the page statement reads the
    parameters' kinds with its rows (MarketAvailabilityPage), saving the filtered page a round
    trip of its own (issue 15), and `verify` refuses what parse_quality_filters would have."""

    wanted: QualityWanted
    commodity: str | None

    def sql(self, params: dict[str, Any]) -> str:
        """The kinds as one text column, `[[code, kind], ...]` (NULL: none)."""
        kinds = _parameter_kinds_sql(list(self.wanted), self.commodity, params, prefix="kinds_")
        return f"(SELECT json_agg(json_build_array(k.code, k.kind))::text FROM ({kinds}) k)"  # noqa: S608 (values as params)

    def verify(self, kinds_text: str | None) -> None:
        kinds = _kinds(json.loads(kinds_text)) if kinds_text else {}
        _quality_filters(self.wanted, kinds, commodity=self.commodity)

    def verify_now(self) -> None:
        """For a page without rows (the statement's column came with none): the kinds read apart."""
        _quality_filters(
            self.wanted, quality_parameter_kinds(list(self.wanted), commodity=self.commodity), commodity=self.commodity
        )


def parse_quality_filters_unchecked(
    params: Mapping[str, str], *, commodity: str | None
) -> tuple[list[QualityFilter], QualityCheck | None]:
    """parse_quality_filters' filters, their parameters' kinds left to check (the QualityCheck,
    None when there are no quality filters) when every value and range is well formed: those
    filters are what parse_quality_filters returns once the parameters pass. A bad value or range
    is checked at once as parse_quality_filters checks it (one query), so the error a request
    gets is the one it got before: an unknown parameter named before a bad value is refused for
    the parameter."""
    wanted = _quality_wanted(params)
    if not wanted:
        return [], None
    every_kind = {code: {ParameterKind.NUMERIC.value, ParameterKind.GRADE.value} for code in wanted}
    try:
        filters = _quality_filters(wanted, every_kind, commodity=commodity)
    except FieldInvalid:
        return parse_quality_filters(params, commodity=commodity), None
    return filters, QualityCheck(wanted=wanted, commodity=commodity)


def _ids(model: type[Model], **lookup: Any) -> QuerySet[Any]:
    return model._default_manager.filter(**lookup).values("pk")


def _commodity_and_variety(rows: QuerySet[Any], filters: MarketFilters) -> QuerySet[Any]:
    # A code filters on the id it names (a subquery, no join): the planner then estimates the
    # posting table alone, and the page is read from its newest-first index (issue 15).
    if filters.commodity is not None:
        c = filters.commodity
        rows = rows.filter(commodity_id=c if _is_uuid(c) else Subquery(_ids(Commodity, code=c)[:1]))
    if filters.variety is not None:
        v = filters.variety
        rows = rows.filter(variety_id=v) if _is_uuid(v) else rows.filter(variety_id__in=_ids(Variety, code=v))
    if filters.state_code is not None:
        rows = rows.filter(state_code=filters.state_code)
    if filters.region is not None:
        rows = rows.filter(region=filters.region)
    return rows


def filter_market_availabilities(rows: QuerySet[Availability], filters: MarketFilters) -> QuerySet[Availability]:
    rows = _commodity_and_variety(rows, filters)
    if filters.price_per_kg_min is not None:
        rows = rows.filter(price_per_kg__gte=filters.price_per_kg_min)
    if filters.price_per_kg_max is not None:
        rows = rows.filter(price_per_kg__lte=filters.price_per_kg_max)
    if filters.min_available_kg is not None:
        rows = rows.filter(available_kg__gte=filters.min_available_kg)
    for index, quality in enumerate(filters.quality):
        if quality.grade is not None:
            text = f"_quality_{index}_text"
            rows = rows.alias(**{text: KeyTextTransform(quality.code, "quality")}).filter(**{text: quality.grade})
        if quality.minimum is None and quality.maximum is None:
            continue
        # tradedesk_quality_number (migration 0004): the value as a number, NULL when it is not a
        # plain decimal; each NUMERIC code has statistics on it (quality_statistics.py).
        number = f"_quality_{index}"
        rows = rows.alias(
            **{number: Func(F("quality"), Value(quality.code), function=FUNCTION, output_field=_QUALITY_VALUE)}
        )
        if quality.minimum is not None:
            rows = rows.filter(**{f"{number}__gte": quality.minimum})
        if quality.maximum is not None:
            rows = rows.filter(**{f"{number}__lte": quality.maximum})
    return rows


def filter_market_requirements(rows: QuerySet[Requirement], filters: MarketFilters) -> QuerySet[Requirement]:
    """Price bounds apply to the buyer's maximum price per kg; `quantity_kg` keeps requirements
    that would take that much: min_kg <= q <= what is still wanted (max_kg - fulfilled_kg)."""
    rows = _commodity_and_variety(rows, filters)
    if filters.price_per_kg_min is not None:
        rows = rows.filter(max_price_per_kg__gte=filters.price_per_kg_min)
    if filters.price_per_kg_max is not None:
        rows = rows.filter(max_price_per_kg__lte=filters.price_per_kg_max)
    if filters.quantity_kg is not None:
        q = filters.quantity_kg
        rows = rows.filter(min_kg__lte=q, max_kg__gte=F("fulfilled_kg") + q)
    if filters.urgency is not None:
        rows = rows.filter(urgency=filters.urgency)
    return rows


# --- the live feed's payloads ---------------------------------------------------------------------

# The fields of the services' event payloads a market subscriber may see (allow-list: anything
# a service adds later stays out until it is listed here).
AVAILABILITY_MARKET_FIELDS = frozenset(
    {
        "availability_id",
        "status",
        "previous_status",
        "commodity_id",
        "commodity_code",
        "variety_id",
        "variety_code",
        "quantity",
        "quantity_unit",
        "quantity_unit_factor",
        "total_kg",
        "available_kg",
        "min_order_kg",
        "partial_allowed",
        "price",
        "price_unit",
        "price_unit_factor",
        "currency",
        "price_per_kg",
        "quality",
        "state_code",
        "region",
        "delivery_term_id",
        "delivery_term_code",
        "available_from",
        "available_until",
        "day_only",
        "expires_at",
        "visibility",
    }
)
REQUIREMENT_MARKET_FIELDS = frozenset(
    {
        "requirement_id",
        "status",
        "previous_status",
        "commodity_id",
        "commodity_code",
        "variety_id",
        "variety_code",
        "quantity_unit",
        "quantity_unit_factor",
        "min_quantity",
        "max_quantity",
        "preferred_quantity",
        "min_kg",
        "max_kg",
        "preferred_kg",
        "fulfilled_kg",
        "remaining_kg",
        "spec",
        "price_unit",
        "price_unit_factor",
        "currency",
        "max_price",
        "preferred_price",
        "max_price_per_kg",
        "preferred_price_per_kg",
        "delivery_from",
        "delivery_until",
        "state_code",
        "region",
        "payment_term_id",
        "delivery_term_id",
        "urgency",
        "visibility",
        "valid_from",
        "valid_until",
        "published_at",
    }
)


def market_event_payload(payload: Mapping[str, Any], *, allowed: frozenset[str], band: str) -> dict[str, Any]:
    """The anonymised payload of a posting event: the allow-listed fields, `changed` cut to the
    same fields, the state's name and the poster's rating band."""
    anonymous = {key: value for key, value in payload.items() if key in allowed}
    changed = payload.get("changed")
    if isinstance(changed, Mapping):
        anonymous["changed"] = {key: value for key, value in changed.items() if key in allowed}
    anonymous["state_name"] = state_name(str(payload.get("state_code") or ""))
    anonymous["rating_band"] = band
    return anonymous


# --- the availability pages in one hand-written statement (issue 15) -----------------------------

# The market's pages are its most read request. Building and compiling the ORM query above cost
# more than running it (about 40% of a request), so every availability page, filtered or not, is
# one fixed statement: the same rows and order as
# market_availability_rows(filter_market_availabilities(market_availabilities(viewer), filters)),
# which test_market_raw_page.py and test_market_raw_filters.py hold equal for partners and staff,
# every filter, nulls, time zones and cursor pages. Every value is a query parameter; the filters'
# SQL is fixed text chosen by which filters are set (a quality code is a parameter too, already
# checked against the active quality parameters by parse_quality_filters). The conditions are the
# ORM's own: a commodity code filters as the id it names (so the planner estimates the posting
# table alone), and a quality range compares tradedesk_quality_number(quality, code), which has
# planner statistics per code (quality_statistics.py).
#
# PostgreSQL also writes each row's JSON, byte for byte what the API rendered from
# api.market.availability_rows (and MarketAvailabilityOutput) through the orjson renderer: the
# same keys in the same order, no whitespace, UUIDs and decimals as text (the columns' scales are
# the serializer's places), datetimes in the current time zone in ISO 8601 as Python writes them
# (microseconds only when not zero, `Z` for a zero offset, the offset's seconds when it has any),
# strings escaped as orjson escapes them (PostgreSQL's to_json does the same). Only the quality
# value is written by Python (_row_text). Python then neither parses datetimes or decimals nor
# formats a row: the view hands the rows' text to the renderer (orjson.Fragment). The current zone
# goes to PostgreSQL by its IANA name, a fixed offset as a POSIX zone (_zone_sql_name).
_RAW_AVAILABILITY_SELECT = """
SELECT a.id, a.commodity_id, a.variety_id, a.currency, a.delivery_term_id, a.visibility,
       a.state_code, a.region,
       CASE p.risk_category WHEN 'LOW' THEN 'A' WHEN 'MEDIUM' THEN 'B' WHEN 'HIGH' THEN 'C'
            WHEN 'CRITICAL' THEN 'D' ELSE 'UNRATED' END AS rating_band,
       {poster},
       a.created_at, a.status, a.quantity, a.total_kg, a.available_kg, a.min_order_kg,
       a.partial_allowed, a.price, a.price_per_kg, a.quality, a.available_from, a.available_until,
       a.day_only, a.expires_at, a.quantity_unit_id, a.price_unit_id{instant_columns}
FROM "tradedesk_availability" a
JOIN partners_businesspartner p ON p.id = a.partner_id
WHERE a.status = 'ACTIVE' AND a.available_kg > 0 AND a.expires_at > %(now)s
  {conditions}
ORDER BY a.created_at {direction}, a.id {direction}
LIMIT %(limit)s OFFSET %(offset)s
"""
# Who posted it: the organization's staff only; NULL from the database for partners.
_STAFF_POSTER = (
    "a.partner_id AS poster_partner_id, p.code AS poster_partner_code, "
    "p.legal_name AS poster_partner_legal_name, a.number AS poster_number"
)
_PARTNER_POSTER = (
    "NULL::uuid AS poster_partner_id, NULL::text AS poster_partner_code, "
    "NULL::text AS poster_partner_legal_name, NULL::text AS poster_number"
)
_PARTNER_CONDITIONS = """
  AND (a.visibility = 'PUBLIC' OR (a.visibility = 'RESTRICTED' AND EXISTS (
        SELECT 1 FROM tradedesk_availability_invited_partners i
        WHERE i.availability_id = a.id AND i.businesspartner_id = %(partner_id)s)))
  AND a.partner_id <> %(partner_id)s"""
_ORDERINGS: dict[tuple[str, ...], str] = {("-created_at", "-id"): "DESC", ("created_at", "id"): "ASC"}


def _raw_commodity_and_variety(filters: MarketFilters, params: dict[str, Any]) -> list[str]:
    conditions = []
    if filters.commodity is not None:
        if _is_uuid(filters.commodity):
            conditions.append("a.commodity_id = %(commodity)s")
            params["commodity"] = UUID(filters.commodity)
        else:
            conditions.append(
                "a.commodity_id = (SELECT id FROM commodities_commodity WHERE code = %(commodity)s LIMIT 1)"
            )
            params["commodity"] = filters.commodity
    if filters.variety is not None:
        if _is_uuid(filters.variety):
            conditions.append("a.variety_id = %(variety)s")
            params["variety"] = UUID(filters.variety)
        else:
            # The ORM's `IN (SELECT ...)` as an array computed once: the same rows, but the planner
            # walks the newest-first index and stops after a page, where it chose a hash semi-join
            # over a seq scan for staff (8.5 ms against 0.5 ms at 5,000 offers, bench data).
            conditions.append("a.variety_id = ANY(ARRAY(SELECT id FROM commodities_variety WHERE code = %(variety)s))")
            params["variety"] = filters.variety
    return conditions


def _raw_filter_conditions(filters: MarketFilters, params: dict[str, Any]) -> str:
    """The WHERE conditions of `filters` (as filter_market_availabilities applies them), their
    values added to `params`. Fixed SQL text: no value is ever written into it."""
    if filters.quantity_kg is not None or filters.urgency is not None:
        raise ValueError("quantity_kg and urgency filter requirements, not availabilities.")
    conditions = _raw_commodity_and_variety(filters, params)
    simple = (
        ("state_code", "a.state_code = %(state_code)s"),
        ("region", "a.region = %(region)s"),
        ("price_per_kg_min", "a.price_per_kg >= %(price_per_kg_min)s"),
        ("price_per_kg_max", "a.price_per_kg <= %(price_per_kg_max)s"),
        ("min_available_kg", "a.available_kg >= %(min_available_kg)s"),
    )
    for name, condition in simple:
        value = getattr(filters, name)
        if value is not None:
            conditions.append(condition)
            params[name] = value
    for index, quality in enumerate(filters.quality):
        if not QUALITY_CODE.fullmatch(quality.code):  # parse_quality_filters only lets these through
            raise ValueError(f"Not a quality parameter code: {quality.code!r}.")
        code = f"q{index}_code"
        params[code] = quality.code
        if quality.grade is not None:
            conditions.append(f"(a.quality ->> %({code})s) = %(q{index}_grade)s")
            params[f"q{index}_grade"] = quality.grade
        # tradedesk_quality_number (migration 0004), with statistics per code: the ORM's expression.
        if quality.minimum is not None:
            conditions.append(f"{FUNCTION}(a.quality, %({code})s) >= %(q{index}_min)s")
            params[f"q{index}_min"] = quality.minimum
        if quality.maximum is not None:
            conditions.append(f"{FUNCTION}(a.quality, %({code})s) <= %(q{index}_max)s")
            params[f"q{index}_max"] = quality.maximum
    return "".join(f"\n  AND {condition}" for condition in conditions)


# How each value of a row is written into its JSON (the columns are the page statement's, `r.`):
# "string": text escaped by to_json (as orjson escapes), null as null; "quoted": the text of a NOT
# NULL UUID or decimal between quotes (it needs no escaping; the decimal columns' scales are the
# serializer's places); "quoted_or_null": the same for a nullable UUID; "boolean": true/false;
# "instant": DRF's DateTimeField; "json": an expression that is already JSON text; "split": where
# the statement's JSON stops and Python writes the value (_row_text).
_ROW_MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("id", "quoted", "id"),
    ("commodity_id", "quoted", "commodity_id"),
    ("commodity_code", "string", "commodity_code"),
    ("variety_id", "quoted_or_null", "variety_id"),
    ("variety_code", "string", "variety_code"),
    ("quantity_unit", "string", "quantity_unit_code"),
    ("price_unit", "string", "price_unit_code"),
    ("currency", "string", "currency"),
    ("delivery_term_id", "quoted_or_null", "delivery_term_id"),
    ("delivery_term_code", "string", "delivery_term_code"),
    ("visibility", "string", "visibility"),
    ("state_code", "string", "state_code"),
    # state_name(): STATES_BY_CODE as a parameter, "" for a code it does not have.
    ("state_name", "json", """COALESCE((%(state_names)s::jsonb -> r.state_code)::text, '""')"""),
    ("region", "string", "region"),
    ("rating_band", "string", "rating_band"),
    ("poster", "json", "{poster}"),  # _STAFF_POSTER_JSON, or 'null' for partners
    ("created_at", "instant", "created_at"),
    ("status", "string", "status"),
    ("quantity", "quoted", "quantity"),
    ("total_kg", "quoted", "total_kg"),
    ("available_kg", "quoted", "available_kg"),
    ("min_order_kg", "quoted", "min_order_kg"),
    ("partial_allowed", "boolean", "partial_allowed"),
    ("price", "quoted", "price"),
    ("price_per_kg", "quoted", "price_per_kg"),
    # quality: the column's JSON, which Python writes between the two halves (_row_text).
    ("quality", "split", "quality"),
    ("available_from", "instant", "available_from"),
    ("available_until", "instant", "available_until"),
    ("day_only", "boolean", "day_only"),
    ("expires_at", "instant", "expires_at"),
)
_STAFF_POSTER_MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("partner_id", "quoted_or_null", "poster_partner_id"),
    ("partner_code", "string", "poster_partner_code"),
    ("partner_legal_name", "string", "poster_partner_legal_name"),
    ("number", "string", "poster_number"),
)


def _json_instant(column: str) -> str:
    """DRF's DateTimeField: `isoformat()` in the current zone (microseconds only when not zero,
    the offset's seconds only when it has any), `+00:00` written `Z`; from the `<column>_local`
    and `<column>_offset` columns of the page statement."""
    local, offset = f"r.{column}_local", f"r.{column}_offset"
    return (
        f"CASE WHEN r.{column} IS NULL THEN 'null' ELSE concat('\"', "
        f"replace(to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', ''), "
        f"CASE WHEN {offset} = interval '0' THEN 'Z' "
        f"WHEN {offset} > interval '0' THEN '+' || to_char({offset}, 'HH24:MI') "
        f"ELSE '-' || to_char(-{offset}, 'HH24:MI') END, "
        f"CASE WHEN date_part('second', {offset}) <> 0 "
        f"THEN ':' || lpad(abs(date_part('second', {offset}))::int::text, 2, '0') END, "
        "'\"') END"
    )


def _json_members(members: tuple[tuple[str, str, str], ...], *, opening: str, closing: str) -> str:
    """One concat() writing `members` as JSON object members, the keys and the quotes of
    "quoted" values in its literals, between the literals `opening` and `closing`."""
    pieces: list[str] = []
    literal = opening
    for n, (key, kind, source) in enumerate(members):
        literal += ("," if n else "") + f'"{key}":'
        if kind == "quoted":
            pieces += [f"'{literal}\"'", f"r.{source}"]
            literal = '"'
            continue
        value = {
            "string": f"COALESCE(to_json(r.{source})::text, 'null')",
            "quoted_or_null": f"COALESCE('\"' || r.{source} || '\"', 'null')",
            "boolean": f"COALESCE(r.{source}::text, 'null')",
            "instant": _json_instant(source),
            "json": source,
        }[kind]
        pieces += [f"'{literal}'", value]
        literal = ""
    pieces.append(f"'{literal}{closing}'")
    return "concat(" + ", ".join(pieces) + ")"


def _json_halves(poster: str) -> tuple[str, str]:
    """The row's JSON before its quality value (`{...,"quality":`) and after it (`,...}`)."""
    split = next(n for n, (_key, kind, _source) in enumerate(_ROW_MEMBERS) if kind == "split")
    before = tuple((key, kind, poster if source == "{poster}" else source) for key, kind, source in _ROW_MEMBERS)
    head = _json_members(before[:split], opening="{", closing=f',"{_ROW_MEMBERS[split][0]}":')
    return head, _json_members(before[split + 1 :], opening=",", closing="}")


_STAFF_POSTER_JSON = _json_members(_STAFF_POSTER_MEMBERS, opening="{", closing="}")
_ROW_HALVES = {True: _json_halves(_STAFF_POSTER_JSON), False: _json_halves("'null'")}

# The page's rows as the page statement reads them (`r`), each with its JSON in two halves and
# its quality between them. `position`: str() of created_at as psycopg reads it (in UTC), what
# the cursor paginator writes into its links and compares rows by. `quality_kinds`: the kinds of
# the quality parameters filtered on (QualityCheck), read once for the page (an uncorrelated
# subquery), or NULL when the page filters on none. The master data's codes are
# joined to the page's rows only (at most page size + 1 of them): PostgreSQL memoizes each
# lookup by key, where a scalar subquery in the page's select list probed an index for every row
# and code (5 x 51 probes: a fifth of the statement's time, issue 15).
_RAW_AVAILABILITY_PAGE = """
SELECT replace(to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '.000000', '')
         || '+00:00' AS position,
       {head} AS head,
       r.quality::text AS quality,
       {tail} AS tail,
       {kinds} AS quality_kinds
FROM (SELECT s.*, c.code AS commodity_code, v.code AS variety_code, qu.code AS quantity_unit_code,
             pu.code AS price_unit_code, dt.code AS delivery_term_code
      FROM ({page}) s
      LEFT JOIN commodities_commodity c ON c.id = s.commodity_id
      LEFT JOIN commodities_variety v ON v.id = s.variety_id
      LEFT JOIN commodities_unit qu ON qu.id = s.quantity_unit_id
      LEFT JOIN commodities_unit pu ON pu.id = s.price_unit_id
      LEFT JOIN commodities_tradeterm dt ON dt.id = s.delivery_term_id) r
ORDER BY r.created_at {direction}, r.id {direction}
"""
# What the page statement adds for the JSON: each instant in the current zone and that zone's
# offset from UTC then.
_INSTANT_COLUMNS = "".join(
    f",\n       a.{c} AT TIME ZONE %(zone)s AS {c}_local, "
    f"(a.{c} AT TIME ZONE %(zone)s) - (a.{c} AT TIME ZONE 'UTC') AS {c}_offset"
    for c in ("created_at", "available_from", "available_until", "expires_at")
)
_STATE_NAMES = json.dumps({code: state.name for code, state in STATES_BY_CODE.items()})


def _zone_sql_name() -> str:
    """The current time zone as PostgreSQL names it: a zone's own name (America/New_York), a
    fixed offset as a POSIX zone (`UTC-05:30` is five and a half hours east, as DRF's `+05:30`)."""
    zone = timezone.get_current_timezone()
    if isinstance(zone, ZoneInfo) and zone.key:
        return zone.key
    if isinstance(zone, dt_timezone):
        seconds = int(zone.utcoffset(None).total_seconds())
        west = "+" if seconds < 0 else "-"
        hours, rest = divmod(abs(seconds), 3600)
        return f"UTC{west}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return timezone.get_current_timezone_name()  # what Django's own datetime functions name it


class MarketPageRow(NamedTuple):
    """One row of a page: its JSON, and its cursor position under the name of the field the
    cursor paginator orders by (it reads `created_at` of each row and writes str() of it)."""

    created_at: str
    json: str


class MarketAvailabilityPage:
    """What the cursor paginator needs of a queryset (order_by on the market's ordering or its
    reverse, a created_at bound, a slice), for the availability market of `viewer` narrowed by
    `filters` (none: the whole market); anything else is refused rather than silently ignored.
    A slice is a list of MarketPageRow, each row's JSON written by PostgreSQL."""

    def __init__(
        self,
        viewer: MarketViewer,
        *,
        filters: MarketFilters | None = None,
        now: datetime | None = None,
        quality_check: QualityCheck | None = None,
    ) -> None:
        self.viewer = viewer
        self.filters = filters or MarketFilters()
        self.now = now or timezone.now()
        self.quality_check = quality_check
        self.direction = "DESC"
        self.bound: tuple[str, datetime] | None = None
        _raw_filter_conditions(self.filters, {})  # a filter this statement does not have: refused now

    def _copy(self) -> MarketAvailabilityPage:
        page = MarketAvailabilityPage(self.viewer, filters=self.filters, now=self.now, quality_check=self.quality_check)
        page.direction, page.bound = self.direction, self.bound
        return page

    def order_by(self, *fields: str) -> MarketAvailabilityPage:
        page = self._copy()
        page.direction = _ORDERINGS[fields]  # KeyError: an ordering this statement does not have
        return page

    def filter(self, **bound: Any) -> MarketAvailabilityPage:
        ((lookup, position),) = bound.items()
        operator = {"created_at__lt": "<", "created_at__gt": ">"}[lookup]
        page = self._copy()
        # The ORM's own parsing of a cursor's position (ValidationError: not a date-time; a
        # naive one is read in the current time zone), so both paths read it alike.
        page.bound = (operator, Availability._meta.get_field("created_at").get_prep_value(position))
        return page

    def __getitem__(self, window: slice) -> list[MarketPageRow]:
        offset, stop = window.start or 0, window.stop
        params: dict[str, Any] = {
            "now": self.now,
            "limit": stop - offset,
            "offset": offset,
            "zone": _zone_sql_name(),
            "state_names": _STATE_NAMES,
        }
        conditions = ""
        if self.viewer.organization_id is not None:
            conditions += " AND a.organization_id = %(organization_id)s"
            params["organization_id"] = self.viewer.organization_id
        if self.viewer.partner_id is not None:
            conditions += _PARTNER_CONDITIONS
            params["partner_id"] = self.viewer.partner_id
        conditions += _raw_filter_conditions(self.filters, params)
        if self.bound is not None:
            conditions += f" AND a.created_at {self.bound[0]} %(position)s"
            params["position"] = self.bound[1]
        staff = self.viewer.is_staff
        page = _RAW_AVAILABILITY_SELECT.format(
            poster=_STAFF_POSTER if staff else _PARTNER_POSTER,
            instant_columns=_INSTANT_COLUMNS,
            conditions=conditions,
            direction=self.direction,
        )
        head, tail = _ROW_HALVES[staff]
        check = self.quality_check
        kinds = check.sql(params) if check is not None else "NULL::text"
        sql = _RAW_AVAILABILITY_PAGE.format(head=head, tail=tail, page=page, direction=self.direction, kinds=kinds)
        with connection.cursor() as cursor:
            # Parsed and planned once per connection (core.sql.execute_prepared): what varies
            # between two reads of the same page is the clock, the viewer's partner and the
            # cursor's position.
            execute_prepared(cursor, sql, params, bound=("now", "partner_id", "position"))
            rows = cursor.fetchall()
        if check is not None:  # nothing is answered before the quality parameters pass
            if rows:
                check.verify(rows[0][4])
            else:
                check.verify_now()
        return [MarketPageRow(row[0], _row_text(row[1], row[2], row[3])) for row in rows]


def page_results(rows: list[MarketPageRow]) -> orjson.Fragment:
    """A page's rows as the `results` of its answer: their JSON text as it is, which the orjson
    renderer writes without reading it."""
    return orjson.Fragment("[" + ",".join(row.json for row in rows) + "]")


def _row_text(head: str, quality: str | None, tail: str) -> str:
    """A row's JSON with its quality read as Django's JSONField reads it (json.loads) and written
    as the orjson renderer writes it: PostgreSQL only writes jsonb with spaces, and compacting it
    there cost more than this (about 10 us a row against 2). Read by orjson (0.6 us a row against
    json's 2). The two read a document alike but for numbers out of range, which quality values
    held to their parameter's bounds do not reach: a number past a float's range orjson refuses
    (then json reads it, as before), a whole number past 64 bits orjson reads as a float where
    json's int could not be written at all."""
    if quality is None:
        return head + "null" + tail
    try:
        value = orjson.loads(quality)
    except orjson.JSONDecodeError:
        value = json.loads(quality)
    return head + orjson.dumps(value).decode() + tail
