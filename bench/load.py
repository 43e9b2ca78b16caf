"""load: 200 partner users browsing the market, posting and reserving, for 2 minutes, with locust
(headless) against a server this benchmark starts itself (issue 14).

Setup (rows of this run's organization, deleted at the end): 20 sellers with 1,000 ACTIVE
availabilities (bench/tradedesk_data.py), 200 buyers with a credit limit, one ACTIVE requirement
and 12 match proposals each (their tokens let a user reserve: start a negotiation, make the first
offer). Each buyer's owner gets an access token made here, as market_list does (no sign-in
through the OTP rate limits).

The server: uvicorn on a free loopback port, one process, with the bounded connection pool
(DB_POOL=1, BENCH_LOAD_POOL_MAX_SIZE, 10 by default: the product's pool) and its connections named by
PGAPPNAME, so a sampler counts exactly its connections in pg_stat_activity every 0.25 s. No
worker: the run's events stay PENDING and go with the cleanup.

Two locust phases with the same users and ramp: the baseline (every user GETs the liveness probe,
a quarter of the duration, at least 15 s), then the real mix (bench/locustfile.py). Reported:
requests, failures (target 0), p50/p95/p99 of both phases and their ratio, the peak number of
server connections (target: at most the pool's max size). Duration: BENCH_LOAD_SECONDS (120;
`--quick` 20); users: BENCH_LOAD_USERS (200). Needs requirements-bench.txt (locust).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.common import (
    REPO,
    RUN_TAG,
    create_current_financial_year,
    create_organization,
    delete_organizations_and_users,
    execute,
    fetchall,
    ratio,
    require,
)
from bench.tradedesk_data import (
    BALE_KG,
    build_availabilities,
    create_partners,
    delete_tradedesk_rows,
    ensure_masters,
    insert_availabilities,
    vacuum_tradedesk,
)

SELLERS = 20
OFFERS = 1000
TOKENS_PER_USER = 12
# Think time between a user's actions, seconds: a person browsing, not a script in a loop.
WAIT = (os.environ.get("BENCH_LOAD_WAIT_MIN", "5"), os.environ.get("BENCH_LOAD_WAIT_MAX", "15"))


def _access_token(user: Any) -> str:
    """The claims apps.accounts.tokens issues, without a session row (as bench/market_list.py)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.tokens import ISSUED_AT_US_CLAIM

    token = AccessToken.for_user(user)
    token["user_type"] = user.user_type
    token[ISSUED_AT_US_CLAIM] = int(token.current_time.timestamp() * 1_000_000)
    return str(token)


def _setup(users: int) -> tuple[Any, dict[str, Any]]:
    from apps.matching.models import MatchProposal
    from apps.partners.models import BusinessPartner
    from apps.tradedesk.models import Requirement, RequirementStatus

    organization = create_organization("load")
    masters = ensure_masters()
    create_current_financial_year(organization)  # publishing numbers postings in the year's series
    parties = create_partners(
        organization,
        [(f"Load Gin {n}", "24") for n in range(SELLERS)] + [(f"Load Mill {n}", "33") for n in range(users)],
    )
    sellers, buyers = parties[:SELLERS], parties[SELLERS:]
    BusinessPartner.objects.filter(pk__in=[b.partner.pk for b in buyers]).update(credit_limit=Decimal("10000000000"))
    rows = build_availabilities(OFFERS, organization=organization, sellers=sellers, masters=masters)
    for row in rows:
        row.min_order_kg = Decimal(0)
        row.partial_allowed = True
    insert_availabilities(rows)
    offers = rows
    now = timezone.now()
    bale, candy = masters.units["BALE"], masters.units["CANDY"]
    data_users = []
    with transaction.atomic():
        for n, buyer in enumerate(buyers):
            requirement = Requirement.objects.create(
                organization=organization,
                partner=buyer.partner,
                created_by=buyer.owner,
                status=RequirementStatus.ACTIVE,
                commodity=masters.commodity,
                quantity_unit=bale,
                quantity_unit_factor=BALE_KG,
                min_quantity=Decimal("10"),
                max_quantity=Decimal("1000"),
                min_kg=10 * BALE_KG,
                max_kg=1000 * BALE_KG,
                price_unit=candy,
                price_unit_factor=candy.factor_to_kg,
                max_price=Decimal("70000"),
                max_price_per_kg=(Decimal("70000") / candy.factor_to_kg).quantize(Decimal("0.0001")),
                delivery_from=timezone.localdate(),
                delivery_until=timezone.localdate() + timedelta(days=60),
                valid_from=now - timedelta(hours=1),
                valid_until=now + timedelta(days=30),
            )
            chosen = [offers[(n * TOKENS_PER_USER + k) % len(offers)] for k in range(TOKENS_PER_USER)]
            proposals = MatchProposal.objects.bulk_create(
                MatchProposal(
                    organization=organization,
                    requirement=requirement,
                    availability=offer,
                    buyer=buyer.partner,
                    seller=offer.partner,
                    commodity=masters.commodity,
                    score=Decimal("0.8"),
                    raw_price_per_kg=offer.price_per_kg,
                    adjusted_price_per_kg=offer.price_per_kg,
                    proposed_at=now,
                    scored_at=now,
                )
                for offer in chosen
                if offer.visibility == "PUBLIC"
            )
            data_users.append({"access": _access_token(buyer.owner), "match_tokens": [p.token for p in proposals]})
    data = {
        "users": data_users,
        "commodity_id": str(masters.commodity.pk),
        "location_id": str(masters.locations["Coimbatore"].pk),
    }
    return organization, data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(port: int, app_name: str) -> subprocess.Popen[bytes]:
    # The server's pool is the product's default (10) unless BENCH_LOAD_POOL_MAX_SIZE says otherwise:
    # bench/run.py raises DB_POOL_MAX_SIZE for the threaded benches, which is not what users get.
    pool = os.environ.get("BENCH_LOAD_POOL_MAX_SIZE", "10")
    env = {**os.environ, "PGAPPNAME": app_name, "DB_POOL": "1", "DJANGO_DEBUG": "0", "DB_POOL_MAX_SIZE": pool}
    env.setdefault("JWT_ACCESS_MINUTES", "60")
    log = open(Path(tempfile.gettempdir()) / f"cotton-load-{RUN_TAG}-uvicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cotton_erp.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            # As the Procfile: an idle keep-alive connection is kept longer than a user thinks (5-15 s),
            # or the server closes it just as the client reuses it (a reset: status 0 in locust).
            "--timeout-keep-alive",
            os.environ.get("WEB_KEEP_ALIVE_SECONDS", "75"),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    _stop(server)
    raise RuntimeError(f"uvicorn did not answer on 127.0.0.1:{port} within 90 s (log: {log.name})")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class _ConnectionSampler(threading.Thread):
    """The server's connections in pg_stat_activity (by application_name), every 0.25 s."""

    def __init__(self, app_name: str) -> None:
        super().__init__(daemon=True)
        self.app_name, self.samples, self.halt = app_name, [], threading.Event()

    def run(self) -> None:
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("pool", None)
        with psycopg.connect(**params, autocommit=True) as conn:
            while not self.halt.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [self.app_name]
                ).fetchone()
                self.samples.append(int(row[0]) if row else 0)
                self.halt.wait(0.25)


def _locust(mode: str, *, host: str, users: int, seconds: int, data_file: str, workdir: str) -> dict[str, Any]:
    prefix = str(Path(workdir) / mode)
    env = {**os.environ, "LOAD_DATA": data_file, "LOAD_MODE": mode, "LOAD_WAIT_MIN": WAIT[0], "LOAD_WAIT_MAX": WAIT[1]}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(REPO / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 10)),
        "--run-time",
        f"{seconds}s",
        "--host",
        host,
        "--csv",
        prefix,
        "--only-summary",
        "--stop-timeout",
        "30",
        "--exit-code-on-error",
        "0",
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=seconds + 180, check=False
    )
    elapsed = time.perf_counter() - started
    require(done.returncode == 0, f"locust exited {done.returncode}: {done.stderr[-2000:]}")
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        stats = list(csv.DictReader(handle))
    with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
        failures = [
            {"request": f"{row['Method']} {row['Name']}", "error": row["Error"][:300], "count": int(row["Occurrences"])}
            for row in csv.DictReader(handle)
        ]

    def figures(row: dict[str, str]) -> dict[str, Any]:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "requests_per_s": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "max_ms": round(float(row["Max Response Time"]), 1),
        }

    total = next(row for row in stats if row["Name"] == "Aggregated")
    return {
        **figures(total),
        "seconds": round(elapsed, 1),
        "by_request": {row["Name"]: figures(row) for row in stats if row["Name"] != "Aggregated"},
        "failure_samples": failures[:10],
    }


def _cleanup(organization_id: Any) -> None:
    from bench.negotiate_accept import delete_trades_rows

    org = [organization_id]
    with transaction.atomic():
        execute(
            "DELETE FROM core_idempotencyrecord WHERE user_id IN (SELECT id FROM accounts_user WHERE organization_id = %s)",
            org,
        )
        execute(
            "DELETE FROM tradedesk_requirementdeliverylocation WHERE requirement_id IN "
            "(SELECT id FROM tradedesk_requirement WHERE organization_id = %s)",
            org,
        )
    delete_trades_rows(organization_id)
    delete_tradedesk_rows(organization_id)


def run(*, quick: bool) -> dict[str, Any]:
    from django.conf import settings

    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "20" if quick else "120"))
    users = int(os.environ.get("BENCH_LOAD_USERS", "200"))
    baseline_seconds = max(15, seconds // 4)
    pool_max = int(os.environ.get("BENCH_LOAD_POOL_MAX_SIZE", "10"))
    app_name = f"cotton-load-{RUN_TAG}"
    organization = None
    server = None
    sampler = _ConnectionSampler(app_name)
    try:
        organization, data = _setup(users)
        with tempfile.TemporaryDirectory(prefix="cotton-load-") as workdir:
            data_file = str(Path(workdir) / "users.json")
            Path(data_file).write_text(json.dumps(data), encoding="utf-8")
            port = _free_port()
            server = _start_server(port, app_name)
            sampler.start()
            host = f"http://127.0.0.1:{port}"
            baseline = _locust(
                "baseline", host=host, users=users, seconds=baseline_seconds, data_file=data_file, workdir=workdir
            )
            real = _locust("real", host=host, users=users, seconds=seconds, data_file=data_file, workdir=workdir)
        sampler.halt.set()
        sampler.join(timeout=5)
        reservations = fetchall(
            "SELECT count(*) FROM tradedesk_reservation WHERE availability_id IN "
            "(SELECT id FROM tradedesk_availability WHERE organization_id = %s)",
            [organization.pk],
        )[0][0]
        oversold = fetchall(
            "SELECT count(*) FROM tradedesk_availability WHERE organization_id = %s AND available_kg < 0",
            [organization.pk],
        )[0][0]
    finally:
        sampler.halt.set()
        if server is not None:
            _stop(server)
        if organization is not None:
            _cleanup(organization.pk)
        delete_organizations_and_users()
        vacuum_tradedesk()

    peak = max(sampler.samples, default=0)
    return {
        "params": {
            "users": users,
            "seconds": seconds,
            "baseline_seconds": baseline_seconds,
            "server": "uvicorn, 1 process, loopback; DB_POOL=1; no Celery worker",
            "db_pool_max_size": pool_max,
            "sellers": SELLERS,
            "availabilities": OFFERS,
            "match_tokens_per_user": TOKENS_PER_USER,
            "mix": "market availabilities (+ next page) 6, market requirements 2, own requirements 2, "
            "post + publish a requirement 1, start a negotiation + first offer (reserves) 2",
            "think_time_s": [float(WAIT[0]), float(WAIT[1])],
        },
        "real": real,
        "baseline_health_live": baseline,
        "p99_ratio_to_baseline": ratio(real["p99_ms"], baseline["p99_ms"]),
        "p50_ratio_to_baseline": ratio(real["p50_ms"], baseline["p50_ms"]),
        "reservations_made": reservations,
        "oversold_availabilities": oversold,
        "peak_server_connections": peak,
        "connection_samples": len(sampler.samples),
        "pool": {"max_size": pool_max, "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE")},
        "target_met": real["failures"] == 0 and baseline["failures"] == 0 and peak <= pool_max and oversold == 0,
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    real, base = result["real"], result["baseline_health_live"]
    figure = (
        f"{real['requests']} req, {real['failures']} failed, p50/p95/p99 {real['p50_ms']:.0f}/{real['p95_ms']:.0f}/"
        f"{real['p99_ms']:.0f} ms, peak {result['peak_server_connections']} conns (pool {result['params']['db_pool_max_size']})"
    )
    baseline = f"health/live p50/p99 {base['p50_ms']:.0f}/{base['p99_ms']:.0f} ms"
    return figure, baseline, f"p99 x{result['p99_ratio_to_baseline']}"
