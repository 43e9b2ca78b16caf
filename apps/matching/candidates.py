"""The engine's inputs, loaded in bulk: the candidate offers of a requirement as numpy columns (one
SQL query, the hard filters SQL can do in its WHERE), and requirements as plain views.

`load_candidates(requirement, ..., prefilter=True)` is the engine's path: SQL drops offers that
fail the variety, price, window, quantity and partner-status filters (on the
`availability_market_idx` index range: the organization's ACTIVE offers of the commodity up to the
requirement's price bound), so only plausible rows cross the wire. The match report passes
`prefilter=False` to see every active offer and count why each one fails. The engine re-checks
every filter on the arrays either way, so the prefilter only ever removes rows that would fail.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.commodities.models import Commodity, ParameterKind
from apps.commodities.quality import active_parameters, validate_spec
from apps.partners.capability_rules import trading_refusal
from apps.partners.insiders import insider_ids_of
from apps.partners.models import BusinessPartner
from apps.tradedesk.models import (
    Availability,
    AvailabilityStatus,
    Requirement,
    RequirementDeliveryLocation,
    RequirementStatus,
    Visibility,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

VISIBILITY_CODES = {Visibility.PUBLIC: 0, Visibility.RESTRICTED: 1, Visibility.PRIVATE: 2}
CACHED_PAGE_COST = "1.1"  # random_page_cost for the prefiltered candidate query (load_candidates)
MATCHABLE_REQUIREMENT_STATES = (RequirementStatus.ACTIVE, RequirementStatus.PARTIALLY_FULFILLED)

# partners.capability_rules.trading_refusal's codes -> matching's reason codes.
REFUSAL_REASONS = {
    "partner_not_active": "partner_inactive",
    "kyc_not_valid": "kyc_expired",
    "capability_missing": "capability_missing",
}


def day_start(day: date) -> float:
    """The epoch seconds of the start of `day` in the current time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone()).timestamp()


@dataclass(frozen=True)
class DeliveryPoint:
    latitude: float
    longitude: float
    radius_km: float
    city: str


@dataclass(frozen=True)
class RequirementView:
    """What the engine reads of a requirement (and of its buyer)."""

    id: UUID
    organization_id: UUID
    partner_id: UUID
    commodity_id: UUID
    variety_id: UUID | None
    min_kg: float
    max_kg: float
    max_price_per_kg: float
    preferred_price_per_kg: float | None
    basis_per_rate_unit: Decimal  # the buyer's basis for the schedule: preferred (else max) price
    window_start: float  # epoch seconds: start of delivery_from
    window_end: float  # epoch seconds: end of delivery_until
    visibility: int
    invited_ids: frozenset[UUID]
    spec: dict[str, dict[str, Any]]
    delivery: tuple[DeliveryPoint, ...]
    buyer_refusal: str | None  # a matching reason code, or None
    insider_ids: frozenset[UUID]
    amount: Decimal  # the largest trade: max kg x max price per kg (the risk checks' amount)
    status: str


@dataclass
class Candidates:
    """Candidate offers as columns (row i of every array is offer i)."""

    ids: list[UUID]
    partner_ids: list[UUID]
    variety_ids: list[UUID | None]
    available_kg: FloatArray
    min_order_kg: FloatArray
    partial_allowed: BoolArray
    price_per_kg: FloatArray
    from_ts: FloatArray
    until_ts: FloatArray
    visibility: IntArray
    invited: BoolArray  # the requirement's buyer is among the offer's invited partners
    latitude: FloatArray
    longitude: FloatArray
    city: list[str]
    seller_refusal: list[str]  # a matching reason code, or ""
    numeric: dict[str, FloatArray] = field(default_factory=dict)  # NaN: not stated
    grades: dict[str, list[str | None]] = field(default_factory=dict)
    # What does not depend on the requirement, computed once per candidate set and shared by the
    # copies `dataclasses.replace` makes of it (the sweep's per-buyer `invited`): see `coded`.
    cache: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def coded(self, name: str) -> tuple[list[Any], IntArray]:
        """(values, row -> index into them) of a per-row column: `partner_ids`, `variety_ids`,
        `city` or `seller_refusal`, so a per-partner (per-variety, per-city) answer is computed
        once per value and gathered with one numpy take (values may repeat for refusals)."""

        key = f"coded:{name}"
        if key not in self.cache:
            # SQL ranked partners, varieties and cities (refusals are the partner's): the distinct
            # values are those at each rank's first row, no per-row hashing here.
            ranks = self.cache.get(f"rank:{'partner_ids' if name == 'seller_refusal' else name}")
            column = getattr(self, name)
            if ranks is not None:
                _, first, codes = np.unique(np.asarray(ranks, dtype=np.int64), return_index=True, return_inverse=True)
                self.cache[key] = ([column[i] for i in first], codes.astype(np.int64).reshape(len(self)))
            else:
                # UUIDs keyed by their integer, hashed and compared in C (a UUID's own __hash__
                # and __eq__ are Python methods: two calls per row of a 50,000-row column).
                keys = [v.int if isinstance(v, UUID) else v for v in column]
                index: dict[Any, int] = {}
                codes = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64, count=len(self))
                # Codes are numbered in order of first appearance: each code's first row holds its value.
                _, first = np.unique(codes, return_index=True)
                self.cache[key] = ([column[i] for i in first], codes)
        values, codes = self.cache[key]
        return values, codes

    def index_of(self) -> dict[Any, int]:
        """Offer id -> row (built once per candidate set)."""
        if "index" not in self.cache:
            self.cache["index"] = {cid: i for i, cid in enumerate(self.ids)}
        index: dict[Any, int] = self.cache["index"]
        return index


_VIEW_FIELDS = (
    "id", "organization_id", "partner_id", "commodity_id", "variety_id", "min_kg", "max_kg",
    "max_price_per_kg", "preferred_price_per_kg", "price_unit_id", "preferred_price", "max_price",
    "delivery_from", "delivery_until", "visibility", "spec", "status",
)  # fmt: skip


def requirement_view(
    requirement: Requirement,
    commodity: Commodity,
    *,
    today: date | None = None,
    insiders: dict[UUID, frozenset[UUID]] | None = None,
) -> RequirementView:
    """The view of a requirement with its delivery locations, invited partners and buyer loaded
    (prefetched ones cost nothing). The spec is cleaned again (Decimals from its JSON).
    `insiders`: the buyers' insider ids already read in this run (a query per buyer, not per
    requirement), filled as it goes. `requirement_views` builds the same views for many
    requirements without model instances."""
    row = {name: getattr(requirement, name if name != "id" else "pk") for name in _VIEW_FIELDS}
    points = [
        (point.location.latitude, point.location.longitude, point.radius_km, point.location.city)
        for point in requirement.delivery_locations.all()
    ]
    # Only a RESTRICTED requirement reads its invitations (one query unless prefetched).
    invited = (
        frozenset(p.pk for p in requirement.invited_partners.all())
        if requirement.visibility == Visibility.RESTRICTED
        else frozenset()
    )
    spec = validate_spec(commodity, requirement.spec or {})
    if insiders is None:
        insiders = {}
    return _view(
        row,
        commodity=commodity,
        partner=requirement.partner,
        points=points,
        invited=invited,
        spec=spec,
        insiders=insiders,
        today=today or timezone.localdate(),
    )


def requirement_views(
    requirements: QuerySet[Requirement],
    *,
    commodity_of: Callable[[UUID, UUID], Commodity],
    insiders: dict[UUID, frozenset[UUID]] | None = None,
) -> dict[UUID, RequirementView]:
    """`requirement_view` of every requirement of the queryset, by id, read as plain rows: the
    requirements, their delivery points and (RESTRICTED ones') invitations in one query each,
    the buyers once each, every distinct spec cleaned once. An offer's run reads every open
    requirement of its commodity (thousands), where model instances and their prefetches cost
    more than the matching. `commodity_of(organization_id, commodity_id)`: the run's commodity
    (with its rate unit and parameters) of a requirement."""
    today = timezone.localdate()
    if insiders is None:
        insiders = {}
    rows = list(requirements.values(*_VIEW_FIELDS))
    if not rows:
        return {}
    ids = requirements.values("pk")
    points: dict[UUID, list[tuple[Any, Any, Any, Any]]] = defaultdict(list)
    located = (
        RequirementDeliveryLocation.objects.filter(requirement_id__in=ids)
        .order_by("requirement_id", "pk")
        .values_list("requirement_id", "location__latitude", "location__longitude", "radius_km", "location__city")
    )
    for requirement_id, *point in located:
        points[requirement_id].append(tuple(point))  # type: ignore[arg-type]
    invited: dict[UUID, set[UUID]] = defaultdict(set)
    if any(row["visibility"] == Visibility.RESTRICTED for row in rows):
        through = Requirement.invited_partners.through
        pairs = through.objects.filter(
            requirement_id__in=requirements.filter(visibility=Visibility.RESTRICTED).values("pk")
        ).values_list("requirement_id", "businesspartner_id")
        for requirement_id, partner_id in pairs:
            invited[requirement_id].add(partner_id)
    partners = BusinessPartner.objects.in_bulk({row["partner_id"] for row in rows})
    specs: dict[tuple[UUID, str], dict[str, dict[str, Any]]] = {}
    views = {}
    for row in rows:
        commodity = commodity_of(row["organization_id"], row["commodity_id"])
        spec_key = (commodity.pk, json.dumps(row["spec"] or {}, sort_keys=True))
        if spec_key not in specs:
            specs[spec_key] = validate_spec(commodity, row["spec"] or {})
        views[row["id"]] = _view(
            row,
            commodity=commodity,
            partner=partners[row["partner_id"]],
            points=points.get(row["id"], []),
            invited=frozenset(invited.get(row["id"], ()))
            if row["visibility"] == Visibility.RESTRICTED
            else frozenset(),
            # Shared by the requirements of one spec: nothing mutates a view's spec.
            spec=specs[spec_key],
            insiders=insiders,
            today=today,
        )
    return views


def _view(
    row: dict[str, Any],
    *,
    commodity: Commodity,
    partner: BusinessPartner,
    points: list[tuple[Any, Any, Any, Any]],
    invited: frozenset[UUID],
    spec: dict[str, dict[str, Any]],
    insiders: dict[UUID, frozenset[UUID]],
    today: date,
) -> RequirementView:
    """A requirement's view from its fields (`_VIEW_FIELDS`), buyer, delivery points (latitude,
    longitude, radius, city), invitations and cleaned spec."""
    if partner.pk not in insiders:
        insiders[partner.pk] = frozenset(insider_ids_of(partner))
    preferred = row["preferred_price_per_kg"]
    basis_per_kg = preferred if preferred is not None else row["max_price_per_kg"]
    rate_factor = commodity.rate_unit.factor_to_kg
    if row["price_unit_id"] == commodity.rate_unit_id:
        basis = row["preferred_price"] if row["preferred_price"] is not None else row["max_price"]
    else:
        basis = (basis_per_kg * rate_factor).quantize(Decimal("0.01"))
    refusal = trading_refusal(partner, "buy", today=today)
    return RequirementView(
        id=row["id"],
        organization_id=row["organization_id"],
        partner_id=row["partner_id"],
        commodity_id=row["commodity_id"],
        variety_id=row["variety_id"],
        min_kg=float(row["min_kg"]),
        max_kg=float(row["max_kg"]),
        max_price_per_kg=float(row["max_price_per_kg"]),
        preferred_price_per_kg=None if preferred is None else float(preferred),
        basis_per_rate_unit=basis,
        window_start=day_start(row["delivery_from"]),
        window_end=day_start(row["delivery_until"] + timedelta(days=1)),
        visibility=VISIBILITY_CODES[Visibility(row["visibility"])],
        invited_ids=invited,
        spec=spec,
        delivery=tuple(
            DeliveryPoint(
                latitude=float(latitude),
                longitude=float(longitude),
                radius_km=float(radius_km),
                city=(city or "").strip().lower(),
            )
            for latitude, longitude, radius_km, city in points
        ),
        buyer_refusal=REFUSAL_REASONS.get(refusal) if refusal else None,
        insider_ids=insiders[partner.pk],
        amount=(row["max_kg"] * row["max_price_per_kg"]).quantize(Decimal("0.01")),
        status=row["status"],
    )


def requirements_for_matching(requirements: Any, *, invitations: bool = True) -> Any:
    """A requirement queryset with what `requirement_view` reads, in a constant number of
    queries. Without `invitations` they are not prefetched: a run of one requirement saves the
    query unless the requirement is RESTRICTED (then requirement_view reads them)."""
    # In id order, as requirement_views reads them (a view's delivery tuple is a memo key).
    points = Prefetch(
        "delivery_locations", queryset=RequirementDeliveryLocation.objects.select_related("location").order_by("pk")
    )
    # The commodity comes from the run's context, not from each requirement's row.
    queryset = requirements.select_related("partner").prefetch_related(points)
    return queryset.prefetch_related("invited_partners") if invitations else queryset


def quality_columns(commodity: Commodity, codes: Iterable[str]) -> tuple[list[str], list[str]]:
    """(numeric codes, grade codes) among `codes`, in parameter order."""
    parameters = active_parameters(commodity)
    wanted = set(codes)
    numeric = [c for c, p in parameters.items() if c in wanted and p.kind == ParameterKind.NUMERIC]
    grades = [c for c, p in parameters.items() if c in wanted and p.kind == ParameterKind.GRADE]
    return numeric, grades


# The offers first (a MATERIALIZED CTE on the market index), then their locations and partners:
# left to itself the planner may start from the partners and revisit every offer block per
# partner. After the prefilter the planner expects a row or two of the CTE (it multiplies the
# filters' guessed selectivities) and scanned the CTE once per partner of the organization
# (41 x 582 rows in the bench); the prefiltered query reads each offer's partner by its key
# instead (`{partner_join}`: a LATERAL subquery, kept apart by its LIMIT, so the offer row comes
# first), the unfiltered one (thousands of
# rows, estimated well) keeps the plain join the planner hashes. Visibility comes as its code (0 PUBLIC, 1 RESTRICTED, 2 PRIVATE).
_SELECT = """
WITH a AS MATERIALIZED (
    SELECT a.id, a.partner_id, a.variety_id, a.available_kg, a.min_order_kg, a.partial_allowed, a.price_per_kg,
           a.available_from, a.available_until, a.visibility, a.quality, a.location_id
    FROM {availability} a
    WHERE {where}
)
SELECT a.id, a.partner_id, a.variety_id, a.available_kg::float8, a.min_order_kg::float8, a.partial_allowed,
       a.price_per_kg::float8, extract(epoch from a.available_from)::float8,
       extract(epoch from a.available_until)::float8,
       CASE a.visibility WHEN 'PUBLIC' THEN 0 WHEN 'RESTRICTED' THEN 1 ELSE 2 END,
       {invited},
       l.latitude::float8, l.longitude::float8, lower(btrim(l.city)),
       CASE WHEN p.status <> 'ACTIVE' THEN 'partner_inactive'
            WHEN p.kyc_status <> 'VERIFIED' OR p.kyc_expires_on IS NULL OR p.kyc_expires_on < %(today)s
                 THEN 'kyc_expired'
            WHEN NOT coalesce((p.trading_capabilities ->> 'sell')::boolean, false) THEN 'capability_missing'
            ELSE '' END,
       {ranks}
       {quality}
FROM a
JOIN {location} l ON l.id = a.location_id
{partner_join}
WHERE {partner_where}
"""


# Each row's rank among the distinct partners, varieties and cities (Candidates.coded): three
# sorts of the rows. For the prefiltered few hundred rows that is cheaper than hashing per row in
# Python; for every offer of a commodity (the sweep, the match report) the sorts of rows this wide
# spilled to disk (3 x 6 MB at 20,000 offers, 270 of the query's 340 ms), so those ranks are left
# NULL and `coded` hashes the values in Python (a few ms a column).
_RANKS = (
    "dense_rank() OVER (ORDER BY a.partner_id), dense_rank() OVER (ORDER BY a.variety_id),\n"
    "       dense_rank() OVER (ORDER BY lower(btrim(l.city)))"
)
_NO_RANKS = "NULL::bigint, NULL::bigint, NULL::bigint"


def _tables() -> dict[str, str]:
    return {
        "availability": Availability._meta.db_table,
        "location": "locations_location",
        "partner": BusinessPartner._meta.db_table,
        "invited_table": Availability.invited_partners.through._meta.db_table,
    }


def _query(
    *,
    numeric: list[str],
    grades: list[str],
    where: list[str],
    buyer_param: bool,
    partner_where: Sequence[str] = (),
    lateral_partner: bool = False,
    ranks: bool = True,
) -> tuple[str, list[str]]:
    tables = _tables()
    invited = (
        f"a.visibility = 'RESTRICTED' AND EXISTS (SELECT 1 FROM {tables['invited_table']} i "  # noqa: S608 (table names from the models)
        "WHERE i.availability_id = a.id AND i.businesspartner_id = %(buyer)s)"
        if buyer_param
        else "false"
    )
    # Parameter codes are bound as parameters (%(q0)s ...), never spliced into the text.
    quality = "".join(f", (a.quality ->> %(q{i})s)::float8" for i in range(len(numeric))) + "".join(
        f", a.quality ->> %(q{len(numeric) + i})s" for i in range(len(grades))
    )
    sql = _SELECT.format(
        invited=invited,
        quality=quality,
        availability=tables["availability"],
        location=tables["location"],
        partner=tables["partner"],
        where=" AND ".join(where),
        partner_where=" AND ".join(partner_where) or "true",
        ranks=_RANKS if ranks else _NO_RANKS,
        partner_join=(
            f"JOIN LATERAL (SELECT * FROM {tables['partner']} p1 WHERE p1.id = a.partner_id LIMIT 1) p ON true"  # noqa: S608 (table name from the model)
            if lateral_partner
            else f"JOIN {tables['partner']} p ON p.id = a.partner_id"
        ),
    )
    return sql, numeric + grades


def _columns(rows: list[tuple[Any, ...]], numeric: list[str], grades: list[str]) -> Candidates:
    if not rows:
        empty = np.zeros(0)
        return Candidates(
            ids=[],
            partner_ids=[],
            variety_ids=[],
            available_kg=empty,
            min_order_kg=empty,
            partial_allowed=np.zeros(0, dtype=bool),
            price_per_kg=empty,
            from_ts=empty,
            until_ts=empty,
            visibility=np.zeros(0, dtype=np.int64),
            invited=np.zeros(0, dtype=bool),
            latitude=empty,
            longitude=empty,
            city=[],
            seller_refusal=[],
            numeric=dict.fromkeys(numeric, empty),
            grades={code: [] for code in grades},
        )
    columns = list(zip(*rows, strict=True))

    def floats(index: int) -> FloatArray:
        return np.array(columns[index], dtype=np.float64)

    base = 18
    return Candidates(
        ids=list(columns[0]),
        partner_ids=list(columns[1]),
        variety_ids=list(columns[2]),
        available_kg=floats(3),
        min_order_kg=floats(4),
        partial_allowed=np.array(columns[5], dtype=bool),
        price_per_kg=floats(6),
        from_ts=floats(7),
        until_ts=floats(8),
        visibility=np.array(columns[9], dtype=np.int64),
        invited=np.array(columns[10], dtype=bool),
        latitude=floats(11),
        longitude=floats(12),
        city=[c or "" for c in columns[13]],
        seller_refusal=list(columns[14]),
        cache={"rank:partner_ids": columns[15], "rank:variety_ids": columns[16], "rank:city": columns[17]}
        if columns[15][0] is not None
        else {},
        # NULL (not stated) arrives as None: np.array(..., float64) makes it NaN.
        numeric={code: np.array(columns[base + i], dtype=np.float64) for i, code in enumerate(numeric)},
        grades={code: list(columns[base + len(numeric) + i]) for i, code in enumerate(grades)},
    )


def load_candidates(
    view: RequirementView,
    commodity: Commodity,
    *,
    quality_codes: Iterable[str],
    prefilter: bool = True,
    only_ids: Iterable[UUID] | None = None,
) -> Candidates:
    """The organization's ACTIVE offers of the requirement's commodity with something available,
    as columns (one query). With `prefilter`, SQL also drops those failing the variety, price,
    window, quantity and counterparty-status filters; `only_ids` narrows to those offers."""
    numeric, grades = quality_columns(commodity, quality_codes)
    where = [
        "a.organization_id = %(organization)s",
        "a.status = %(status)s",
        "a.commodity_id = %(commodity)s",
        "a.available_kg > 0",
    ]
    partner_where: list[str] = []
    if only_ids is not None:
        where.append("a.id = ANY(%(only_ids)s)")
    params: dict[str, Any] = {
        "organization": view.organization_id,
        "status": AvailabilityStatus.ACTIVE,
        "commodity": view.commodity_id,
        "today": timezone.localdate(),
        "buyer": view.partner_id,
        "only_ids": list(only_ids) if only_ids is not None else None,
    }
    if prefilter:
        where += [
            "a.price_per_kg <= %(max_price)s",
            "a.available_until > to_timestamp(%(window_start)s)",
            "a.available_from < to_timestamp(%(window_end)s)",
            "a.available_kg >= %(min_kg)s",
            "a.min_order_kg <= %(max_kg)s",
            "(a.partial_allowed OR a.available_kg <= %(max_kg)s)",
            "a.visibility <> 'PRIVATE'",
            "a.partner_id <> %(buyer)s",
        ]
        partner_where.append("p.status = 'ACTIVE'")
        # The spec's hard numeric bounds (a value not stated fails them too: `missing`), compared
        # as the engine compares them (float8).
        bounds = {"min": ">=", "max": "<=", "exact": "="}
        for n, code in enumerate(c for c in numeric if c in view.spec):
            for key, operator in bounds.items():
                if key in view.spec[code]:
                    where.append(f"(a.quality ->> %(b{n})s)::float8 {operator} %(b{n}_{key})s")
                    params[f"b{n}"] = code
                    params[f"b{n}_{key}"] = float(view.spec[code][key])
        params.update(
            max_price=Decimal(repr(view.max_price_per_kg)),
            window_start=view.window_start,
            window_end=view.window_end,
            min_kg=Decimal(repr(view.min_kg)),
            max_kg=Decimal(repr(view.max_kg)),
        )
        if view.variety_id is not None:
            where.append("a.variety_id = %(variety)s")
            params["variety"] = view.variety_id
    sql, codes = _query(
        numeric=numeric,
        grades=grades,
        where=where,
        buyer_param=True,
        partner_where=partner_where,
        lateral_partner=prefilter,
        ranks=prefilter,
    )
    params.update({f"q{i}": code for i, code in enumerate(codes)})
    if not prefilter:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return _columns(rows, numeric, grades)
    # The index range (`availability_market_idx` up to the price bound) is the plan this query is
    # written for. With the default random_page_cost (4, a spinning disk's) the planner, expecting
    # a handful of rows, flipped between it and a scan of every offer of the organization from one
    # ANALYZE to the next: 55-116 ms against 34 ms for the range at 50,000 offers, all pages
    # cached. For this statement only, the cost of a cached page read (set_config local to the
    # transaction, set back after; a transaction of its own when the caller has none).
    outer = nullcontext() if connection.in_atomic_block else transaction.atomic()
    with outer, connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('random_page_cost'), set_config('random_page_cost', %s, true)", [CACHED_PAGE_COST]
        )
        before = cursor.fetchone()[0]
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute("SELECT set_config('random_page_cost', %s, true)", [before])
    return _columns(rows, numeric, grades)


def load_offer(availability_id: UUID, commodity: Commodity, *, quality_codes: Iterable[str]) -> Candidates:
    """One offer (any status) as a one-row candidate set; `invited` is False (the caller sets it
    per requirement with `for_buyer`)."""
    numeric, grades = quality_columns(commodity, quality_codes)
    sql, codes = _query(numeric=numeric, grades=grades, where=["a.id = %(id)s"], buyer_param=False)
    params: dict[str, Any] = {"id": availability_id, "today": timezone.localdate()}
    params.update({f"q{i}": code for i, code in enumerate(codes)})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _columns(rows, numeric, grades)


def for_buyer(offer: Candidates, invited_ids: frozenset[UUID], buyer_id: UUID) -> Candidates:
    """A one-row candidate set with `invited` answered for `buyer_id`."""
    return dataclasses.replace(offer, invited=np.array([buyer_id in invited_ids], dtype=bool))
