"""What the live desk board shows, read for one staff member (their organization's rows; a
platform admin sees every organization's): the market (open offers against open needs by
variety and state), price per candy and volume by day, the work queues, and the day's matches
and trades. Plain JSON-safe data, so the page and its refresh use the same reader."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.accounts.models import User
from apps.backoffice.queues import work_queues
from apps.core.formatting import indian_number, trimmed_number
from apps.matching.selectors import proposals_visible_to
from apps.tradedesk.models import AvailabilityStatus, RequirementStatus
from apps.tradedesk.selectors import availabilities_visible_to_staff, requirements_visible_to
from apps.trades.selectors import trades_visible_to

CANDY_KG = Decimal("355.62")  # the Indian cotton trade's candy, used when a commodity quotes no rate unit
PRICE_DAYS = 30
OPEN_OFFER_STATES = (AvailabilityStatus.ACTIVE,)


def _per_candy(price_per_kg: Decimal | None, candy_kg: Decimal) -> Decimal | None:
    return None if price_per_kg is None else (price_per_kg * candy_kg).quantize(Decimal("1"))


def _safe(queryset_factory: Any, user: User) -> Any:
    try:
        return queryset_factory(user)
    except Exception:
        return None


def board_snapshot(user: User) -> dict[str, Any]:
    today = timezone.localdate()
    offers = availabilities_visible_to_staff(user).filter(status__in=OPEN_OFFER_STATES)
    requirements = _safe(requirements_visible_to, user)
    needs = (
        requirements.filter(status__in=(RequirementStatus.ACTIVE, RequirementStatus.PARTIALLY_FULFILLED))
        if (requirements is not None)
        else None
    )

    market: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"offers": 0, "offer_kg": Decimal(0), "needs": 0, "need_kg": Decimal(0), "best_offer_per_kg": None}
    )
    for row in offers.values("variety__name", "commodity__name", "state_code").annotate(
        n=Count("id"), kg=Sum("available_kg"), best=Min("price_per_kg")
    ):
        key = (row["variety__name"] or row["commodity__name"], row["state_code"] or "-")
        market[key].update(offers=row["n"], offer_kg=row["kg"] or Decimal(0), best_offer_per_kg=row["best"])
    if needs is not None:
        for row in needs.values("variety__name", "commodity__name", "state_code").annotate(
            n=Count("id"), kg=Sum("max_kg")
        ):
            key = (row["variety__name"] or row["commodity__name"], row["state_code"] or "-")
            market[key].update(needs=row["n"], need_kg=row["kg"] or Decimal(0))
    market_rows = [
        {
            "variety": variety,
            "state": state,
            "offers": data["offers"],
            "offer_kg": trimmed_number(data["offer_kg"]),
            "needs": data["needs"],
            "need_kg": trimmed_number(data["need_kg"]),
            "best_offer_per_candy": indian_number(_per_candy(data["best_offer_per_kg"], CANDY_KG), 0)
            if data["best_offer_per_kg"] is not None
            else "-",
        }
        for (variety, state), data in sorted(market.items())
    ]

    trades = _safe(trades_visible_to, user)
    since = today - timedelta(days=PRICE_DAYS)
    series: list[dict[str, Any]] = []
    trades_today: list[dict[str, Any]] = []
    if trades is not None:
        for row in (
            trades.filter(created_at__date__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(kg=Sum("quantity_kg"), amount=Sum("amount"), n=Count("id"))
            .order_by("day")
        ):
            kg = row["kg"] or Decimal(0)
            series.append(
                {
                    "day": row["day"].isoformat(),
                    "trades": row["n"],
                    "kg": float(kg),
                    "per_candy": float(_per_candy(row["amount"] / kg, CANDY_KG) or 0) if kg else None,
                }
            )
        for trade in (
            trades.filter(created_at__date=today)
            .select_related("buyer", "seller", "variety")
            .order_by("-created_at")[:20]
        ):
            trades_today.append(
                {
                    "number": trade.number,
                    "buyer": trade.buyer.code,
                    "seller": trade.seller.code,
                    "variety": trade.variety.name if trade.variety else "",
                    "kg": trimmed_number(trade.quantity_kg),
                    "per_candy": indian_number(_per_candy(trade.price_per_kg, CANDY_KG), 0),
                    "status": trade.get_status_display(),
                }
            )
    proposals = _safe(proposals_visible_to, user)
    matches_today = (
        [
            {
                "buyer": proposal.buyer.code,
                "seller": proposal.seller.code,
                "score": str(proposal.score),
                "per_candy": indian_number(_per_candy(proposal.raw_price_per_kg, CANDY_KG), 0),
                "status": proposal.get_status_display(),
            }
            for proposal in proposals.filter(proposed_at__date=today)
            .select_related("buyer", "seller")
            .order_by("-score")[:20]
        ]
        if proposals is not None
        else []
    )
    recent_offers = [
        {
            "number": offer.number,
            "partner": offer.partner.code,
            "variety": offer.variety.name if offer.variety else offer.commodity.name,
            "quantity": f"{trimmed_number(offer.quantity)} {offer.quantity_unit.code.lower()}",
            "price": f"Rs {indian_number(offer.price, 0)} / {offer.price_unit.code.lower()}",
            "status": offer.get_status_display(),
        }
        for offer in availabilities_visible_to_staff(user)
        .filter(decided_at__date=today, status__in=OPEN_OFFER_STATES)
        .select_related("partner", "variety", "commodity", "quantity_unit", "price_unit")
        .order_by("-decided_at")[:20]
    ]
    return {
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "market": market_rows,
        "series": series,
        "queues": [
            {"key": queue.key, "label": queue.label, "count": queue.count, "url": queue.url}
            for queue in work_queues(user)
        ],
        "approved_today": recent_offers,
        "matches_today": matches_today,
        "trades_today": trades_today,
    }
