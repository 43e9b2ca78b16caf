"""reservations: reservations/s of `availability_reserve` under 16 concurrent clients on one
availability, with the oversell count (must be 0), next to raw conditional UPDATEs.

One ACTIVE availability of `chunks` x 170 kg + 85 kg (a bale's worth per reservation, plus a
remainder no reservation fits). 16 threads, each with its own database connection, start
together (a barrier) and call `apps.tradedesk.services.reservations.availability_reserve` for
one bale at a time until refused; each keeps its first refusal's code and stops. Every call is
the real service: its conditional UPDATE, the reservation row, the outbox event and the audit
rows, one transaction each (since issue 15 one statement after the reads). The relay hint on
commit is switched off: this run's events stay PENDING and are deleted at the end.

Checks, after every round: the sum of the ACTIVE reservations equals reserved_kg and never
exceeds what was available (oversell_kg = max(0, sum reserved - total), must be 0, and
reservations beyond `chunks` none); `available + reserved + sold = total` read back with SQL;
exactly `chunks` reservations succeeded, each client was refused once with
insufficient_quantity and nothing else failed.

Baseline: on a second availability of the same size, the same 16 threads (psycopg connections,
no ORM, autocommit) run the raw conditional statement `UPDATE tradedesk_availability SET
available_kg = available_kg - q, reserved_kg = reserved_kg + q WHERE id = %s AND available_kg >=
q` until it matches nothing: the database's ceiling on one hot row. Paired rounds (raw, then
real, on fresh rows), so drift on a shared machine hits both sides; the ratio is the median of
the rounds' ratios. Target: oversell 0, the invariant every round, and (issue 15) a ratio of at
least 0.3 (`ratio_target_met` alone says whether that part was met).
"""

from __future__ import annotations

import statistics
import threading
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
    fetchone,
    require,
)
from bench.tradedesk_data import (
    BALE_KG,
    build_availabilities,
    create_partners,
    delete_tradedesk_rows,
    ensure_masters,
    vacuum_tradedesk,
)

NAME = "reservations"
CLIENTS = 16
RATIO_TARGET = 0.3  # issue 15
CHUNK_KG = BALE_KG
REMAINDER_KG = Decimal("85")

RAW_RESERVE_SQL = (
    "UPDATE tradedesk_availability SET available_kg = available_kg - %s, reserved_kg = reserved_kg + %s "
    "WHERE id = %s AND available_kg >= %s"
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


def _fresh_availability(context: dict[str, Any], kind: str, chunks: int) -> Any:
    """An ACTIVE availability of chunks x 170 kg + 85 kg, no minimum order."""
    from apps.tradedesk.models import Availability

    (row,) = build_availabilities(
        1, organization=context["organization"], sellers=context["sellers"], masters=context["masters"]
    )
    total = chunks * CHUNK_KG + REMAINDER_KG
    row.number = f"AV/BENCH/{kind}-{context['serial']}"
    context["serial"] += 1
    row.quantity = total / BALE_KG
    row.total_kg = row.available_kg = total
    row.min_order_kg = Decimal(0)
    row.partial_allowed = True
    with transaction.atomic():
        row.save()
    return Availability.objects.get(pk=row.pk)


def _threads(clients: int, work: Callable[[int, threading.Barrier], None]) -> float:
    """Run `work(i, barrier)` in `clients` threads; seconds from the barrier's release to the
    last thread's end."""
    barrier = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            work(i, barrier)
        except BaseException as exc:  # reported after the join
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,), name=f"bench-reserve-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):  # a thread failed before the start: raised below
        barrier.wait()
    watch = Stopwatch()
    for thread in threads:
        thread.join()
    seconds = watch.elapsed
    if errors:
        raise errors[0]
    return seconds


def _real_round(context: dict[str, Any], chunks: int) -> dict[str, Any]:
    from django.db import connections

    from apps.core.errors import DomainError
    from apps.tradedesk.services.reservations import availability_reserve

    availability = _fresh_availability(context, "real", chunks)
    buyer_id = context["buyer"].partner.pk
    successes: list[int] = [0] * CLIENTS
    refusals: Counter[str] = Counter()
    lock = threading.Lock()

    def work(i: int, barrier: threading.Barrier) -> None:
        try:
            connection.ensure_connection()  # this thread's own connection, opened before the start
            barrier.wait()
            while True:
                try:
                    availability_reserve(
                        availability_id=availability.pk,
                        quantity_kg=CHUNK_KG,
                        purpose="NEGOTIATION",
                        reference=f"bench-{RUN_TAG}-{i}",
                        buyer_id=buyer_id,
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
    return {"availability_id": availability.pk, "seconds": seconds, "ok": sum(successes), "refusals": refusals}


def _raw_round(context: dict[str, Any], chunks: int) -> dict[str, Any]:
    import psycopg

    availability = _fresh_availability(context, "raw", chunks)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    successes: list[int] = [0] * CLIENTS

    def work(i: int, barrier: threading.Barrier) -> None:
        with psycopg.connect(**params, autocommit=True) as raw, raw.cursor() as cursor:
            barrier.wait()
            while True:
                cursor.execute(RAW_RESERVE_SQL, [CHUNK_KG, CHUNK_KG, availability.pk, CHUNK_KG])
                if cursor.rowcount != 1:
                    return
                successes[i] += 1

    seconds = _threads(CLIENTS, work)
    return {"availability_id": availability.pk, "seconds": seconds, "ok": sum(successes), "refusals": None}


def _check(round_: dict[str, Any], chunks: int, *, reservations_rows: bool) -> dict[str, Any]:
    """The invariant and the oversell count, read back with SQL."""
    row = fetchone(
        "SELECT total_kg, available_kg, reserved_kg, sold_kg, status, "
        "available_kg + reserved_kg + sold_kg = total_kg FROM tradedesk_availability WHERE id = %s",
        [round_["availability_id"]],
    )
    require(row is not None, "the availability is gone")
    assert row is not None
    total, available, reserved, sold, status, adds_up = row
    reserved_rows = fetchone(
        "SELECT count(*), coalesce(sum(quantity_kg), 0) FROM tradedesk_reservation "
        "WHERE availability_id = %s AND status = 'ACTIVE'",
        [round_["availability_id"]],
    )
    assert reserved_rows is not None
    count, reserved_sum = reserved_rows
    claimed = reserved_sum if reservations_rows else round_["ok"] * CHUNK_KG
    oversell_kg = max(Decimal(0), Decimal(claimed) - Decimal(total))
    require(adds_up, f"available {available} + reserved {reserved} + sold {sold} != total {total}")
    require(oversell_kg == 0, f"oversold by {oversell_kg} kg")
    require(round_["ok"] == chunks, f"{round_['ok']} reservations succeeded, {chunks} fit")
    require(available == REMAINDER_KG and reserved == chunks * CHUNK_KG, f"left {available}, reserved {reserved}")
    if reservations_rows:
        require(count == chunks and reserved_sum == reserved, f"{count} rows hold {reserved_sum}, reserved {reserved}")
        require(
            round_["refusals"] == Counter({"insufficient_quantity": CLIENTS}),
            f"refusals: {dict(round_['refusals'])}",
        )
        require(status == "ACTIVE", f"status {status} with {available} kg available")
    return {
        "oversell_kg": str(oversell_kg),
        "oversold_reservations": max(0, round_["ok"] - chunks),
        "invariant_holds": bool(adds_up),
        "left_available_kg": str(available),
    }


def run(*, quick: bool) -> dict[str, Any]:
    chunks = 320 if quick else 1000
    rounds = 2 if quick else 3
    organization = None
    try:
        organization = create_organization("reservations")
        masters = ensure_masters()
        seller, buyer = create_partners(
            organization,
            [("Shree Rajkot Ginning Private Limited", "24"), ("Coimbatore Spinning Mills Limited", "33")],
        )
        context = {"organization": organization, "sellers": [seller], "buyer": buyer, "masters": masters, "serial": 1}
        pairs = []
        for _ in range(rounds):
            raw = _raw_round(context, chunks)
            raw_check = _check(raw, chunks, reservations_rows=False)
            real = _real_round(context, chunks)
            real_check = _check(real, chunks, reservations_rows=True)
            pairs.append((raw, raw_check, real, real_check))
        events = fetchone(
            "SELECT count(*) FROM events_outboxevent WHERE organization_id = %s AND type = %s",
            [organization.pk, "tradedesk.availability.reserved"],
        )
        require(events and events[0] == rounds * chunks, f"{events} reserved events for {rounds * chunks}")
    finally:
        if organization is not None:
            delete_tradedesk_rows(organization.pk)
        delete_organizations_and_users()
        vacuum_tradedesk()

    real_rates = [chunks / real["seconds"] for _, _, real, _ in pairs]
    raw_rates = [chunks / raw["seconds"] for raw, _, _, _ in pairs]
    ratios = [real / raw for real, raw in zip(real_rates, raw_rates, strict=True)]
    oversell_kg = sum(Decimal(check["oversell_kg"]) for _, _, _, check in pairs)
    refusals: Counter[str] = Counter()
    for _, _, real, _ in pairs:
        refusals.update(real["refusals"])
    return {
        "params": {
            "clients": CLIENTS,
            "reservations_per_round": chunks,
            "chunk_kg": str(CHUNK_KG),
            "availability_kg": str(chunks * CHUNK_KG + REMAINDER_KG),
            "rounds": rounds,
            "relay_hint": "off (the events stay PENDING and are deleted)",
            "masters_seeded": masters.seeded,
        },
        "figure": {
            "reservations_per_s": round(statistics.median(real_rates), 1),
            "reservations_per_s_each_round": [round(rate, 1) for rate in real_rates],
            "oversell_kg": str(oversell_kg),
            "oversold_reservations": sum(check["oversold_reservations"] for _, _, _, check in pairs),
            "invariant_holds_every_round": all(check["invariant_holds"] for _, _, _, check in pairs),
            "refusals": dict(refusals),
            "left_available_kg_each_round": [check["left_available_kg"] for _, _, _, check in pairs],
        },
        "baseline": {
            "what": "raw conditional UPDATE ... WHERE available_kg >= q from the same 16 threads "
            "(psycopg, autocommit, no ORM, no reservation row, event or audit row)",
            "updates_per_s": round(statistics.median(raw_rates), 1),
            "updates_per_s_each_round": [round(rate, 1) for rate in raw_rates],
            "oversell_kg": str(sum(Decimal(check["oversell_kg"]) for _, check, _, _ in pairs)),
        },
        "ratio": round(statistics.median(ratios), 4),
        "ratio_each_round": [round(r, 4) for r in ratios],
        "ratio_meaning": "median over paired rounds of service reservations/s / raw conditional UPDATEs/s",
        "target": {"oversell_kg": "0", "invariant_every_round": True, "ratio_min": RATIO_TARGET},
        "ratio_target_met": statistics.median(ratios) >= RATIO_TARGET,
        "target_met": oversell_kg == 0
        and all(check["invariant_holds"] for _, _, _, check in pairs)
        and statistics.median(ratios) >= RATIO_TARGET,
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    return (
        f"{result['figure']['reservations_per_s']:,.0f} reservations/s (16 clients), "
        f"oversell {result['figure']['oversell_kg']} kg",
        f"{result['baseline']['updates_per_s']:,.0f} raw UPDATEs/s",
        f"{result['ratio']:.3f} (>= {RATIO_TARGET}, oversell = 0)",
    )
