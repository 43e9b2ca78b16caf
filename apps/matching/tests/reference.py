"""A reference matcher for the tests: SPEC section 8 written as plain Python loops over model
instances, one pair at a time, with the lower apps' own functions (check_spec, price_adjustment,
trading_refusal, insider_relationship) and no numpy, no SQL prefilter, no caching. The engine
must agree with it: the same pairs, the same scores to 1e-9, the same order."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils import timezone

from apps.commodities.models import Commodity, ParameterKind
from apps.commodities.quality import active_parameters, check_spec, parse_number, validate_spec
from apps.commodities.schedules import price_adjustment
from apps.commodities.selectors import active_schedule
from apps.locations.distance import EARTH_RADIUS_KM
from apps.matching import risk
from apps.matching.models import DEFAULT_MIN_SCORE, DEFAULT_WEIGHTS, MatchingSettings, MatchingWeights
from apps.partners.capability_rules import trading_refusal
from apps.partners.insiders import insider_relationship
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement, Visibility

REFUSALS = {
    "partner_not_active": "partner_inactive",
    "kyc_not_valid": "kyc_expired",
    "capability_missing": "capability_missing",
}


@dataclass
class Verdict:
    availability_id: UUID
    reasons: list[str]
    score: float
    adjusted_per_kg: float


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _fit(parameter: Any, constraints: dict[str, Any], raw: Any) -> float:
    if raw is None or raw == "":
        return 0.5
    preferred = constraints.get("preferred")
    if parameter.kind == ParameterKind.GRADE:
        if "exact" in constraints or preferred is None:
            return 1.0
        return 1.0 if raw == preferred else 0.5
    if "exact" in constraints or preferred is None:
        return 1.0
    value = float(parse_number(raw))  # type: ignore[arg-type]
    p = float(preferred)
    if value > p:
        high = constraints.get("max", parameter.max_value)
        if high is None or float(high) <= p:
            return 0.5
        return 1 - 0.5 * min(1.0, (value - p) / (float(high) - p))
    if value < p:
        low = constraints.get("min", parameter.min_value)
        if low is None or float(low) >= p:
            return 0.5
        return 1 - 0.5 * min(1.0, (p - value) / (p - float(low)))
    return 1.0


def _weights(commodity: Commodity) -> tuple[float, float, float, float, float]:
    row = MatchingWeights.objects.filter(commodity=commodity, is_active=True).first()
    if row is None:
        d = DEFAULT_WEIGHTS
        return (
            float(d["quality"]),
            float(d["price"]),
            float(d["delivery"]),
            float(d["risk"]),
            float(DEFAULT_MIN_SCORE),
        )
    return (float(row.quality), float(row.price), float(row.delivery), float(row.risk), float(row.min_score))


def judge(requirement: Requirement) -> list[Verdict]:  # noqa: C901 (the reference oracle reads the rules top to bottom, as SPEC states them)
    """Every ACTIVE offer of the requirement's commodity and organization, with the reasons it
    is excluded (empty: it passes) and its score."""
    commodity = Commodity.objects.select_related("rate_unit").get(pk=requirement.commodity_id)
    parameters = active_parameters(commodity)
    settings = MatchingSettings.objects.filter(organization_id=requirement.organization_id).first()
    enforce_radius = settings.enforce_radius if settings else True
    freight = settings.freight_per_kg_km if settings else None
    schedule = active_schedule(commodity.pk)
    wq, wp, wd, wr, _ = _weights(commodity)
    rate = commodity.rate_unit.factor_to_kg
    buyer = requirement.partner
    spec = validate_spec(commodity, requirement.spec)
    if requirement.price_unit_id == commodity.rate_unit_id:
        basis = requirement.preferred_price if requirement.preferred_price is not None else requirement.max_price
    else:
        per_kg = requirement.preferred_price_per_kg or requirement.max_price_per_kg
        basis = (per_kg * rate).quantize(Decimal("0.01"))
    amount = (requirement.max_kg * requirement.max_price_per_kg).quantize(Decimal("0.01"))
    zone = timezone.get_current_timezone()
    start = datetime.combine(requirement.delivery_from, time.min, tzinfo=zone).timestamp()
    end = datetime.combine(requirement.delivery_until + timedelta(days=1), time.min, tzinfo=zone).timestamp()
    today = timezone.localdate()
    verdicts = []
    offers = Availability.objects.filter(
        organization_id=requirement.organization_id,
        commodity_id=requirement.commodity_id,
        status=AvailabilityStatus.ACTIVE,
        available_kg__gt=0,
    ).select_related("partner", "location")
    for offer in offers:
        seller = offer.partner
        reasons: list[str] = []
        if requirement.variety_id is not None and offer.variety_id != requirement.variety_id:
            reasons.append("variety_mismatch")
        hidden = offer.visibility == Visibility.PRIVATE or requirement.visibility == Visibility.PRIVATE
        if offer.visibility == Visibility.RESTRICTED and not offer.invited_partners.filter(pk=buyer.pk).exists():
            hidden = True
        if (
            requirement.visibility == Visibility.RESTRICTED
            and not requirement.invited_partners.filter(pk=seller.pk).exists()
        ):
            hidden = True
        if hidden:
            reasons.append("visibility")
        for code in ("partner_inactive", "kyc_expired", "capability_missing"):
            buyer_refusal = trading_refusal(buyer, "buy", today=today)
            seller_refusal = trading_refusal(seller, "sell", today=today)
            if REFUSALS.get(buyer_refusal or "") == code or REFUSALS.get(seller_refusal or "") == code:
                reasons.append(code)
        if insider_relationship(buyer, seller) is not None:
            reasons.append("insiders")
        party = risk.party_checks(buyer.pk, [seller.pk])[seller.pk]
        assessed = risk.worst(
            risk.assessment(risk.BUYER, buyer.pk, amount), risk.assessment(risk.SELLER, seller.pk, amount)
        )
        if party == risk.FAIL:
            reasons.append("party_link")
        if assessed == risk.FAIL:
            reasons.append("risk_fail")
        warned = risk.WARN in (party, assessed)
        if (
            offer.available_kg < requirement.min_kg
            or offer.min_order_kg > requirement.max_kg
            or (not offer.partial_allowed and offer.available_kg > requirement.max_kg)
        ):
            reasons.append("quantity_below_minimum")
        if offer.price_per_kg > requirement.max_price_per_kg:
            reasons.append("price_above_max")
        closeness, nearest, within = [], [], False
        for point in requirement.delivery_locations.select_related("location"):
            km = _km(
                float(offer.location.latitude),
                float(offer.location.longitude),
                float(point.location.latitude),
                float(point.location.longitude),
            )
            same_city = (
                bool((point.location.city or "").strip())
                and (offer.location.city or "").strip().lower() == point.location.city.strip().lower()
            )
            radius = float(point.radius_km)
            within = within or km <= radius or same_city
            if same_city:
                closeness.append(1.0)
            elif radius > 0:
                closeness.append(min(1.0, max(0.0, 1 - km / radius)))
            else:
                closeness.append(1.0 if km == 0 else 0.0)
            nearest.append(km)
        if closeness and enforce_radius and not within:
            reasons.append("out_of_radius")
        overlap = min(offer.available_until.timestamp(), end) - max(offer.available_from.timestamp(), start)
        if overlap <= 0:
            reasons.append("window_disjoint")
        for mismatch in check_spec(commodity, spec, offer.quality):
            if mismatch.hard:
                reasons.append(f"quality:{mismatch.parameter}:{mismatch.constraint}")
        adjustment = 0.0
        if schedule is not None:
            priced = price_adjustment(schedule, offer.quality, basis)
            for reject in priced.reject_reasons:
                reasons.append(f"quality:{reject.parameter}:schedule_reject")
            adjustment = float(priced.total_adjustment) / float(rate)
        quality = (
            sum(_fit(parameters[c], k, offer.quality.get(c)) for c, k in spec.items()) / len(spec) if spec else 1.0
        )
        adjusted = float(offer.price_per_kg) - adjustment
        if freight is not None and nearest:
            adjusted += float(freight) * min(nearest)
        maximum = float(requirement.max_price_per_kg)
        preferred = (
            float(requirement.preferred_price_per_kg) if requirement.preferred_price_per_kg is not None else maximum
        )
        if maximum > preferred:
            price = min(1.0, max(0.0, (maximum - adjusted) / (maximum - preferred)))
        else:
            price = 1.0 if adjusted <= maximum else 0.0
        slack = min(1.0, max(0.0, overlap / (end - start)))
        delivery = 0.5 * (max(closeness) if closeness else 1.0) + 0.5 * slack
        score = (wq * quality + wp * price + wd * delivery + wr * (0.5 if warned else 1.0)) / (wq + wp + wd + wr)
        if warned:
            score *= 0.9
        verdicts.append(Verdict(offer.pk, reasons, min(1.0, max(0.0, score)), adjusted))
    return verdicts


def reference_proposals(requirement: Requirement) -> list[tuple[UUID, float]]:
    """The pairs the reference proposes for the requirement: (availability id, score), best first."""
    if requirement.status not in ("ACTIVE", "PARTIALLY_FULFILLED"):
        return []
    *_, minimum = _weights(Commodity.objects.get(pk=requirement.commodity_id))
    kept = [(v.availability_id, v.score) for v in judge(requirement) if not v.reasons and v.score >= minimum]
    return sorted(kept, key=lambda pair: (-pair[1], str(pair[0])))
