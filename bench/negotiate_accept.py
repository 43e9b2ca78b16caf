"""negotiate_accept: accepts/s of `negotiation_accept` under 16 concurrent buyers against 4 offers,
with the oversell and credit-breach counts (both must be 0), next to a raw-SQL baseline.

Setup (per round): 4 ACTIVE availabilities of 12 lots (a lot is 10 bales, 1,700 kg) from 4
sellers; 16 buyers, each with a requirement and a credit limit that holds three trades of a lot
but not four; for every buyer and every offer a negotiation started from a match proposal with
the seller's offer of one lot on the table (64 negotiations). Their reservations are then
released (as if the desk's safety net had taken them), so the accepts contend for the quantity:
64 lots are wanted, 48 exist, and each buyer's credit takes only 3 of its 4. 16 threads, one per
buyer with its own connection, start together and accept their 4 negotiations in turn: each call
is the real service (negotiation lock, availability lock and fresh reservation, the credit row's
exposure check, the numbered trade with its snapshots and GST, the sale, the requirement's
fulfilment, the outbox events and audit rows, one transaction).

Checks, after every round, by SQL: every availability's `available + reserved + sold = total` and
sold <= total (oversell_kg = 0); trades x lot = sold; every buyer's weighted exposure <= its limit
(credit_breaches = 0) and its CONTRACTED total equals its trades' totals; every refusal is
insufficient_quantity or credit_limit_exceeded.

Baseline: the same 16 threads (psycopg, no ORM) run, per accept, the minimal SQL of an accept in
one transaction: the conditional UPDATE of a fresh availability (`available >= q`), the
conditional UPDATE of a credit row in a scratch table (`exposure + a <= limit`), the requirement's
fulfilment, commit (or roll back on a refusal). Paired rounds; the ratio is the median of the
rounds' ratios.
"""

from __future__ import annotations

import statistics
import threading
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.common import (
    RUN_TAG,
    create_current_financial_year,
    create_organization,
    delete_organizations_and_users,
    execute,
    fetchall,
    require,
)
from bench.reservations import _no_relay_hint, _threads
from bench.tradedesk_data import (
    BALE_KG,
    build_availabilities,
    create_partners,
    delete_tradedesk_rows,
    ensure_masters,
    vacuum_tradedesk,
)

NAME = "negotiate_accept"
BUYERS = 16
OFFERS = 4
LOT_KG = 10 * BALE_KG
LOTS_PER_OFFER = 12
LIMIT = Decimal("1000000.00")  # three lots' trades (301,223.22 each with GST) and a negotiation, not four


def _setup_parties(organization: Any, masters: Any) -> dict[str, Any]:
    create_current_financial_year(organization)  # publishing numbers postings in the year's series
    parties = create_partners(
        organization,
        [(f"Bench Gin {n}", "24") for n in range(OFFERS)] + [(f"Bench Mill {n}", "33") for n in range(BUYERS)],
    )
    sellers, buyers = parties[:OFFERS], parties[OFFERS:]
    from apps.partners.models import BusinessPartner

    BusinessPartner.objects.filter(pk__in=[b.partner.pk for b in buyers]).update(credit_limit=LIMIT)
    return {"organization": organization, "masters": masters, "sellers": sellers, "buyers": buyers, "serial": 0}


def _requirement(context: dict[str, Any], buyer: Any) -> Any:
    from apps.tradedesk.models import Requirement, RequirementStatus

    masters, now = context["masters"], timezone.now()
    bale, candy = masters.units["BALE"], masters.units["CANDY"]
    return Requirement.objects.create(
        organization=context["organization"],
        partner=buyer.partner,
        created_by=buyer.owner,
        status=RequirementStatus.ACTIVE,
        commodity=masters.commodity,
        quantity_unit=bale,
        quantity_unit_factor=BALE_KG,
        min_quantity=Decimal("10"),
        max_quantity=Decimal("1000"),
        min_kg=LOT_KG,
        max_kg=100 * LOT_KG,
        price_unit=candy,
        price_unit_factor=candy.factor_to_kg,
        max_price=Decimal("70000"),
        max_price_per_kg=(Decimal("70000") / candy.factor_to_kg).quantize(Decimal("0.0001")),
        delivery_from=timezone.localdate(),
        delivery_until=timezone.localdate() + timedelta(days=30),
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(days=30),
    )


def _offers(context: dict[str, Any], kind: str) -> list[Any]:
    from apps.tradedesk.models import Availability

    rows = build_availabilities(
        OFFERS, organization=context["organization"], sellers=context["sellers"], masters=context["masters"]
    )
    saved = []
    for row in rows:
        context["serial"] += 1
        row.number = f"AV/BENCH/{kind}-{context['serial']}"
        row.total_kg = row.available_kg = LOTS_PER_OFFER * LOT_KG
        row.quantity = row.total_kg / BALE_KG
        row.min_order_kg, row.partial_allowed, row.price = Decimal(0), True, Decimal("60000")
        row.price_per_kg = (row.price / row.price_unit_factor).quantize(Decimal("0.0001"))
        with transaction.atomic():
            row.save()
        saved.append(Availability.objects.get(pk=row.pk))
    return saved


def _negotiations(context: dict[str, Any]) -> tuple[list[Any], dict[Any, list[Any]]]:
    """64 negotiations with the seller's lot on the table, their reservations released."""
    from apps.matching.models import MatchProposal
    from apps.tradedesk.services.reservations import availability_release
    from apps.trades.models import Negotiation
    from apps.trades.services.negotiations import OfferTerms, negotiation_offer_make, negotiation_start

    offers = _offers(context, "real")
    per_buyer: dict[Any, list[Any]] = {}
    now = timezone.now()
    for buyer in context["buyers"]:
        requirement = _requirement(context, buyer)
        for offer, seller in zip(offers, context["sellers"], strict=True):
            proposal = MatchProposal.objects.create(
                organization=context["organization"],
                requirement=requirement,
                availability=offer,
                buyer=buyer.partner,
                seller=seller.partner,
                commodity=context["masters"].commodity,
                score=Decimal("0.8"),
                raw_price_per_kg=offer.price_per_kg,
                adjusted_price_per_kg=offer.price_per_kg,
                proposed_at=now,
                scored_at=now,
            )
            negotiation = negotiation_start(actor=seller.owner, match_token=proposal.token)
            made = negotiation_offer_make(
                actor=seller.owner,
                negotiation_id=negotiation.pk,
                terms=OfferTerms(
                    price=Decimal("60000"),
                    price_unit="CANDY",
                    quantity=LOT_KG,
                    quantity_unit="KG",
                    delivery_from=timezone.localdate(),
                    delivery_until=timezone.localdate() + timedelta(days=20),
                ),
            )
            # Released at once (as the desk's safety net would): the accepts contend for the lots.
            held = Negotiation.objects.values_list("reservation_id", flat=True).get(pk=made.negotiation_id)
            availability_release(reservation_id=held, reason="bench: contend at accept")
            per_buyer.setdefault(buyer.partner.pk, []).append(negotiation.pk)
    return offers, per_buyer


def _real_round(context: dict[str, Any]) -> dict[str, Any]:
    from django.db import connections

    from apps.core.errors import DomainError
    from apps.trades.services.trades import negotiation_accept

    offers, per_buyer = _negotiations(context)
    buyers = context["buyers"]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def work(i: int, barrier: threading.Barrier) -> None:
        buyer = buyers[i]
        try:
            connection.ensure_connection()
            barrier.wait()
            for negotiation_id in per_buyer[buyer.partner.pk]:
                try:
                    negotiation_accept(actor=buyer.owner, negotiation_id=negotiation_id)
                    outcome = "trade"
                except DomainError as exc:
                    outcome = str(exc.code)
                with lock:
                    outcomes[outcome] += 1
        finally:
            connections.close_all()

    with _no_relay_hint():
        seconds = _threads(BUYERS, work)
    return {"offers": offers, "seconds": seconds, "outcomes": outcomes}


def _check_real(context: dict[str, Any], round_: dict[str, Any]) -> dict[str, Any]:
    ids = [offer.pk for offer in round_["offers"]]
    rows = fetchall(
        "SELECT total_kg, available_kg, reserved_kg, sold_kg FROM tradedesk_availability WHERE id = ANY(%s)", [ids]
    )
    oversell = sum(max(Decimal(0), sold - total) for total, _a, _r, sold in rows)
    adds_up = all(a + r + s == t for t, a, r, s in rows)
    sold = sum(s for _t, _a, _r, s in rows)
    trades = round_["outcomes"]["trade"]
    require(adds_up, "available + reserved + sold != total")
    require(oversell == 0, f"oversold by {oversell} kg")
    require(sold == trades * LOT_KG, f"sold {sold} kg for {trades} trades")
    buyer_ids = [b.partner.pk for b in context["buyers"]]
    credit = fetchall(
        "SELECT c.partner_id, c.exposure, c.credit_limit, c.contracted_amount, "
        "(SELECT coalesce(sum(t.total_amount), 0) FROM trades_trade t WHERE t.buyer_id = c.partner_id "
        " AND t.status <> 'CANCELLED') FROM risk_creditaccount c WHERE c.partner_id = ANY(%s)",
        [buyer_ids],
    )
    breaches = sum(1 for _p, exposure, limit, _c, _t in credit if exposure > limit)
    require(breaches == 0, f"{breaches} buyers over their limit")
    require(all(contracted == traded for _p, _e, _l, contracted, traded in credit), "contracted != trades")
    unexpected = set(round_["outcomes"]) - {"trade", "insufficient_quantity", "credit_limit_exceeded"}
    require(not unexpected, f"unexpected outcomes {dict(round_['outcomes'])}")
    return {"oversell_kg": str(oversell), "credit_breaches": breaches, "trades": trades}


RAW_STOCK = (
    "UPDATE tradedesk_availability SET available_kg = available_kg - %s, sold_kg = sold_kg + %s "
    "WHERE id = %s AND available_kg >= %s"
)
RAW_CREDIT = "UPDATE {table} SET exposure = exposure + %s WHERE partner_id = %s AND exposure + %s <= credit_limit"
RAW_FULFIL = "UPDATE tradedesk_requirement SET fulfilled_kg = fulfilled_kg + %s WHERE id = %s"


def _raw_round(context: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    offers = _offers(context, "raw")
    table = f"bench_credit_{RUN_TAG.replace('-', '_')[:20]}"
    execute(
        f"CREATE UNLOGGED TABLE IF NOT EXISTS {table} (partner_id uuid PRIMARY KEY, exposure numeric, credit_limit numeric)"
    )
    execute(f"TRUNCATE {table}")
    requirements = {}
    for buyer in context["buyers"]:
        execute(f"INSERT INTO {table} VALUES (%s, 0, %s)", [buyer.partner.pk, LIMIT])
        requirements[buyer.partner.pk] = _requirement(context, buyer).pk
    amount = Decimal("301223.22")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def work(i: int, barrier: threading.Barrier) -> None:
        buyer = context["buyers"][i]
        with psycopg.connect(**params) as raw:
            barrier.wait()
            for offer in offers:
                with raw.cursor() as cursor:
                    cursor.execute(RAW_STOCK, [LOT_KG, LOT_KG, offer.pk, LOT_KG])
                    outcome = "trade"
                    if cursor.rowcount != 1:
                        outcome = "insufficient_quantity"
                    else:
                        cursor.execute(RAW_CREDIT.format(table=table), [amount, buyer.partner.pk, amount])
                        if cursor.rowcount != 1:
                            outcome = "credit_limit_exceeded"
                        else:
                            cursor.execute(RAW_FULFIL, [LOT_KG, requirements[buyer.partner.pk]])
                if outcome == "trade":
                    raw.commit()
                else:
                    raw.rollback()
                with lock:
                    outcomes[outcome] += 1

    seconds = _threads(BUYERS, work)
    breaches = fetchall(f"SELECT count(*) FROM {table} WHERE exposure > credit_limit")[0][0]
    execute(f"DROP TABLE {table}")
    rows = fetchall("SELECT total_kg, sold_kg FROM tradedesk_availability WHERE id = ANY(%s)", [[o.pk for o in offers]])
    oversell = sum(max(Decimal(0), sold - total) for total, sold in rows)
    return {"seconds": seconds, "outcomes": outcomes, "oversell_kg": str(oversell), "credit_breaches": breaches}


def delete_trades_rows(organization_id: Any) -> None:
    """This run's negotiations, trades, proposals, requirements, credit rows and ledger, settings,
    financial year and series (with their audit rows), before the trade desk's own cleanup."""
    from django.apps import apps as django_apps

    def purge(label: str, where: str, params: list[Any]) -> None:
        model = django_apps.get_model(label)
        ids = [row[0] for row in fetchall(f"SELECT id FROM {model._meta.db_table} WHERE {where}", params)]
        for event_model in set(getattr(model, "pgh_event_models", {}).values()):
            execute(f"DELETE FROM {event_model._meta.db_table} WHERE pgh_obj_id = ANY(%s)", [ids])
        execute(f"DELETE FROM {model._meta.db_table} WHERE id = ANY(%s)", [ids])

    org = [organization_id]
    negotiations = "negotiation_id IN (SELECT id FROM trades_negotiation WHERE organization_id = %s)"
    with transaction.atomic():
        purge("trades.TradeAmendment", "trade_id IN (SELECT id FROM trades_trade WHERE organization_id = %s)", org)
        purge("trades.Trade", "organization_id = %s", org)
        purge("trades.Offer", negotiations, org)
        purge("trades.NegotiationMessage", negotiations, org)
        purge("trades.Negotiation", "organization_id = %s", org)
        purge("trades.TradesSettings", "organization_id = %s", org)
        purge("matching.MatchProposal", "organization_id = %s", org)
        for label in ("risk.ExposureEntry", "risk.Assessment", "risk.ExposureAlert", "risk.LimitChange"):
            purge(label, "organization_id = %s", org)
        purge("risk.CreditAccount", "organization_id = %s", org)
        for label in ("risk.RiskSettings", "matching.MatchingSettings"):
            purge(label, "organization_id = %s", org)
        execute(
            "DELETE FROM tradedesk_reservation WHERE availability_id IN "
            "(SELECT id FROM tradedesk_availability WHERE organization_id = %s)",
            org,
        )
        purge("tradedesk.Requirement", "organization_id = %s", org)
        purge("organizations.DocumentSeries", "organization_id = %s", org)
        purge("organizations.FinancialYear", "organization_id = %s", org)


def run(*, quick: bool) -> dict[str, Any]:
    rounds = 1 if quick else 3
    organization = None
    pairs = []
    try:
        organization = create_organization("negotiate")
        context = _setup_parties(organization, ensure_masters())
        for _ in range(rounds):
            raw = _raw_round(context)
            real = _real_round(context)
            pairs.append((raw, real, _check_real(context, real)))
    finally:
        if organization is not None:
            delete_trades_rows(organization.pk)
            delete_tradedesk_rows(organization.pk)
        delete_organizations_and_users()
        vacuum_tradedesk()

    attempts = BUYERS * OFFERS
    real_rates = [attempts / real["seconds"] for _, real, _ in pairs]
    raw_rates = [attempts / raw["seconds"] for raw, _, _ in pairs]
    ratios = [r / b for r, b in zip(real_rates, raw_rates, strict=True)]
    oversell = sum(Decimal(check["oversell_kg"]) for _, _, check in pairs)
    breaches = sum(check["credit_breaches"] for _, _, check in pairs)
    outcomes: Counter[str] = Counter()
    for _, real, _ in pairs:
        outcomes.update(real["outcomes"])
    raw_outcomes: Counter[str] = Counter()
    for raw, _, _ in pairs:
        raw_outcomes.update(raw["outcomes"])
    return {
        "params": {
            "buyers": BUYERS,
            "offers": OFFERS,
            "lot_kg": str(LOT_KG),
            "lots_per_offer": LOTS_PER_OFFER,
            "accepts_per_round": attempts,
            "credit_limit": str(LIMIT),
            "rounds": rounds,
            "relay_hint": "off (the events stay PENDING and are deleted)",
        },
        "figure": {
            "accepts_per_s": round(statistics.median(real_rates), 1),
            "accepts_per_s_each_round": [round(rate, 1) for rate in real_rates],
            "outcomes": dict(outcomes),
            "oversell_kg": str(oversell),
            "credit_breaches": breaches,
        },
        "baseline": {
            "what": "the minimal SQL of an accept from the same 16 threads: conditional UPDATEs of the "
            "availability and a credit row, the requirement's fulfilment, one transaction (psycopg, no ORM)",
            "accepts_per_s": round(statistics.median(raw_rates), 1),
            "accepts_per_s_each_round": [round(rate, 1) for rate in raw_rates],
            "outcomes": dict(raw_outcomes),
            "oversell_kg": str(sum(Decimal(raw["oversell_kg"]) for raw, _, _ in pairs)),
            "credit_breaches": sum(raw["credit_breaches"] for raw, _, _ in pairs),
        },
        "ratio": round(statistics.median(ratios), 4),
        "ratio_each_round": [round(r, 4) for r in ratios],
        "ratio_meaning": "median over paired rounds of service accepts/s / raw-SQL accepts/s",
        "target": {"oversell_kg": "0", "credit_breaches": 0},
        "target_met": oversell == 0 and breaches == 0,
        "run_tag": RUN_TAG,
        "id": str(uuid.uuid4()),
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    return (
        f"{result['figure']['accepts_per_s']:,.0f} accepts/s (16 buyers, 4 offers), oversell "
        f"{result['figure']['oversell_kg']} kg, {result['figure']['credit_breaches']} credit breaches",
        f"{result['baseline']['accepts_per_s']:,.0f} raw-SQL accepts/s",
        f"{result['ratio']:.3f}",
    )
