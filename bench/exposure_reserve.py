"""exposure_reserve: bookings/s of `exposure_reserve_within_limit` under 16 concurrent clients
against one partner's credit limit, with the limit-breach count (must be 0), next to raw
conditional UPDATEs of the credit row.

One partner with a credit limit of `bookings` x 10,000 + 5,000 (a booking's worth each, plus a
remainder no booking fits). 16 threads, each with its own database connection, start together
(a barrier) and book 10,000 at the CONTRACTED stage (weight 1) against a fresh source each, one
transaction per booking, until refused with credit_limit_exceeded; each keeps its first refusal's
code and stops. Every call is the real service: the credit row's SELECT ... FOR UPDATE, the
idempotency look-up, the ledger row, the totals UPDATE, the level check (and the alerts it emits
on the way up: NORMAL -> LOW -> MEDIUM -> HIGH, one each; the relay hint on commit is switched
off: this run's events stay PENDING and are deleted at the end).

Checks, after every round, by SQL: the open ledger entries' sum equals the row's contracted total
and its exposure; exposure never exceeds the limit (breaches = bookings beyond `bookings`, and
the amount over the limit, both must be 0); exactly `bookings` bookings succeeded and each client
was refused once with credit_limit_exceeded.

Baseline: on a second partner's credit row of the same limit, the same 16 threads (psycopg
connections, no ORM, autocommit) run the raw conditional statement `UPDATE risk_creditaccount
SET contracted_amount = contracted_amount + x, exposure = exposure + x WHERE partner_id = %s AND
exposure + x <= credit_limit` until it matches nothing: the database's ceiling on one hot row.
Paired rounds (raw, then real, on fresh rows); the ratio is the median of the rounds' ratios.
Target: 0 limit breaches (the ratio is reported, not targeted).
"""

from __future__ import annotations

import statistics
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from bench.common import (
    RUN_TAG,
    Stopwatch,
    create_organization,
    delete_organizations_and_users,
    execute,
    fetchone,
    require,
)
from bench.tradedesk_data import create_partners, delete_tradedesk_rows

NAME = "exposure_reserve"
CLIENTS = 16
CHUNK = Decimal("10000.00")
REMAINDER = Decimal("5000.00")

RAW_RESERVE_SQL = (
    "UPDATE risk_creditaccount SET contracted_amount = contracted_amount + %s, exposure = exposure + %s "
    "WHERE partner_id = %s AND exposure + %s <= credit_limit"
)


@contextmanager
def _no_relay_hint() -> Iterator[None]:
    from apps.events import relay

    original = relay.request_relay_soon
    relay.request_relay_soon = lambda: None
    try:
        yield
    finally:
        relay.request_relay_soon = original


def _credit_row(partner_id: Any, limit: Decimal) -> None:
    """The partner's credit row with `limit` and nothing booked."""
    from apps.risk.locks import lock_credit_account
    from apps.risk.models import CreditAccount

    with transaction.atomic():
        lock_credit_account(partner_id)
        CreditAccount.objects.filter(partner_id=partner_id).update(credit_limit=limit)


def _threads(clients: int, work: Callable[[int, threading.Barrier], None]) -> float:
    barrier = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            work(i, barrier)
        except BaseException as exc:  # reported after the join
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,), name=f"bench-exposure-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        barrier.wait()
    watch = Stopwatch()
    for thread in threads:
        thread.join()
    seconds = watch.elapsed
    if errors:
        raise errors[0]
    return seconds


def _real_round(partner_id: Any) -> dict[str, Any]:
    from django.db import connections

    from apps.core.errors import DomainError
    from apps.risk.services.exposure import exposure_reserve_within_limit

    successes = [0] * CLIENTS
    refusals: Counter[str] = Counter()
    lock = threading.Lock()

    def work(i: int, barrier: threading.Barrier) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            while True:
                try:
                    with transaction.atomic():
                        exposure_reserve_within_limit(
                            partner_id=partner_id,
                            stage="CONTRACTED",
                            amount=CHUNK,
                            source_type="bench",
                            source_id=uuid.uuid4(),
                        )
                except DomainError as exc:
                    with lock:
                        refusals[str(exc.code)] += 1
                    return
                successes[i] += 1
        finally:
            connections.close_all()

    with _no_relay_hint():
        seconds = _threads(CLIENTS, work)
    return {"partner_id": partner_id, "seconds": seconds, "ok": sum(successes), "refusals": refusals}


def _raw_round(partner_id: Any) -> dict[str, Any]:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    successes = [0] * CLIENTS

    def work(i: int, barrier: threading.Barrier) -> None:
        with psycopg.connect(**params, autocommit=True) as raw, raw.cursor() as cursor:
            barrier.wait()
            while True:
                cursor.execute(RAW_RESERVE_SQL, [CHUNK, CHUNK, partner_id, CHUNK])
                if cursor.rowcount != 1:
                    return
                successes[i] += 1

    seconds = _threads(CLIENTS, work)
    return {"partner_id": partner_id, "seconds": seconds, "ok": sum(successes), "refusals": None}


def _check(round_: dict[str, Any], bookings: int, *, ledger: bool) -> dict[str, Any]:
    row = fetchone(
        "SELECT credit_limit, exposure, contracted_amount FROM risk_creditaccount WHERE partner_id = %s",
        [round_["partner_id"]],
    )
    require(row is not None, "the credit row is gone")
    assert row is not None
    limit, exposure, contracted = row
    over_limit = max(Decimal(0), Decimal(exposure) - Decimal(limit))
    require(over_limit == 0, f"exposure {exposure} exceeds the limit {limit}")
    require(round_["ok"] == bookings, f"{round_['ok']} bookings succeeded, {bookings} fit")
    require(exposure == contracted == bookings * CHUNK, f"exposure {exposure}, contracted {contracted}")
    if ledger:
        open_rows = fetchone(
            "SELECT count(*), coalesce(sum(amount), 0) FROM risk_exposureentry "
            "WHERE partner_id = %s AND released_at IS NULL AND stage = 'CONTRACTED'",
            [round_["partner_id"]],
        )
        assert open_rows is not None
        require(
            open_rows[0] == bookings and open_rows[1] == contracted,
            f"{open_rows[0]} open entries hold {open_rows[1]}, the row says {contracted}",
        )
        require(round_["refusals"] == Counter({"credit_limit_exceeded": CLIENTS}), f"{dict(round_['refusals'])}")
    return {"over_limit": str(over_limit), "breaches": max(0, round_["ok"] - bookings)}


def _delete_risk_rows(organization_id: Any) -> None:
    with transaction.atomic():
        for table in ("risk_exposureentry", "risk_exposurealert", "risk_assessment"):
            execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization_id])
        accounts = "SELECT id FROM risk_creditaccount WHERE organization_id = %s"
        execute(f"DELETE FROM risk_creditaccountevent WHERE pgh_obj_id IN ({accounts})", [organization_id])
        execute("DELETE FROM risk_creditaccount WHERE organization_id = %s", [organization_id])
        settings_rows = "SELECT id FROM risk_risksettings WHERE organization_id = %s"
        execute(f"DELETE FROM risk_risksettingsevent WHERE pgh_obj_id IN ({settings_rows})", [organization_id])
        execute("DELETE FROM risk_risksettings WHERE organization_id = %s", [organization_id])


def run(*, quick: bool) -> dict[str, Any]:
    bookings = 320 if quick else 1000
    rounds = 2 if quick else 3
    limit = bookings * CHUNK + REMAINDER
    organization = None
    try:
        organization = create_organization("exposure")
        partners = create_partners(organization, [(f"Bench Spinning Mills {n}", "33") for n in range(2 * rounds)])
        pairs = []
        for n in range(rounds):
            raw_partner, real_partner = partners[2 * n].partner.pk, partners[2 * n + 1].partner.pk
            _credit_row(raw_partner, limit)
            _credit_row(real_partner, limit)
            raw = _raw_round(raw_partner)
            raw_check = _check(raw, bookings, ledger=False)
            real = _real_round(real_partner)
            real_check = _check(real, bookings, ledger=True)
            pairs.append((raw, raw_check, real, real_check))
        alerts = fetchone(
            "SELECT count(*) FROM events_outboxevent WHERE organization_id = %s AND type = 'risk.exposure.alert'",
            [organization.pk],
        )
        # Each real round climbs NORMAL -> LOW -> MEDIUM -> HIGH once: three alerts, never one per booking.
        require(alerts and alerts[0] == 3 * rounds, f"{alerts} alerts for {rounds} rounds")
    finally:
        if organization is not None:
            _delete_risk_rows(organization.pk)
            delete_tradedesk_rows(organization.pk)
        delete_organizations_and_users()

    real_rates = [bookings / real["seconds"] for _, _, real, _ in pairs]
    raw_rates = [bookings / raw["seconds"] for raw, _, _, _ in pairs]
    ratios = [real / raw for real, raw in zip(real_rates, raw_rates, strict=True)]
    breaches = sum(check["breaches"] for _, _, _, check in pairs)
    over = sum(Decimal(check["over_limit"]) for _, _, _, check in pairs)
    return {
        "params": {
            "clients": CLIENTS,
            "bookings_per_round": bookings,
            "booking_amount": str(CHUNK),
            "credit_limit": str(limit),
            "stage": "CONTRACTED (weight 1)",
            "rounds": rounds,
            "relay_hint": "off (the events stay PENDING and are deleted)",
        },
        "figure": {
            "bookings_per_s": round(statistics.median(real_rates), 1),
            "bookings_per_s_each_round": [round(rate, 1) for rate in real_rates],
            "limit_breaches": breaches,
            "amount_over_limit": str(over),
            "alerts_per_round": 3,
        },
        "baseline": {
            "what": "raw conditional UPDATE risk_creditaccount ... WHERE exposure + x <= credit_limit from the "
            "same 16 threads (psycopg, autocommit, no ORM, no ledger row, level check or event)",
            "updates_per_s": round(statistics.median(raw_rates), 1),
            "updates_per_s_each_round": [round(rate, 1) for rate in raw_rates],
            "limit_breaches": sum(check["breaches"] for _, check, _, _ in pairs),
        },
        "ratio": round(statistics.median(ratios), 4),
        "ratio_each_round": [round(r, 4) for r in ratios],
        "ratio_meaning": "median over paired rounds of service bookings/s / raw conditional UPDATEs/s",
        "target": {"limit_breaches": 0},
        "target_met": breaches == 0 and over == 0,
        "run_tag": RUN_TAG,
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    return (
        f"{result['figure']['bookings_per_s']:,.0f} bookings/s (16 clients), "
        f"{result['figure']['limit_breaches']} limit breaches",
        f"{result['baseline']['updates_per_s']:,.0f} raw UPDATEs/s",
        f"{result['ratio']:.3f} (breaches = 0)",
    )
