"""Benchmarks (ARCHITECTURE.md section 12): `make bench` runs this inside `scripts/devenv.py exec`.

    python bench/run.py [--quick] [--only NAME[,NAME...]]

Each benchmark reports its figures next to a baseline measured in the same run, and their ratio,
so the ratio holds on a noisy machine:

    relay_throughput    the real relay vs the raw SQL claim-and-mark loop     (bench/relay_throughput.py)
    latency             commit-to-handler / -websocket, hint and beat alone   (bench/latency.py)
    webhook_throughput  signed deliveries/s vs raw POSTs                      (bench/webhook_throughput.py)
    websocket_fanout    one event to N real consumers vs raw Redis PUBLISH    (bench/websocket_fanout.py)
    market_list         a market page of 50 of 50,000 offers vs a bare view   (bench/market_list.py)
    reservations        reservations/s, 16 clients, oversell vs raw UPDATEs   (bench/reservations.py)
    exposure_reserve    credit bookings/s, 16 clients, breaches vs raw UPDATEs (bench/exposure_reserve.py)
    matching            1 requirement x 50,000 offers, sweep, approve->proposed vs bare numpy (bench/matching.py)
    negotiate_accept    accepts/s, 16 buyers x 4 offers, oversell and credit
                        breaches vs the raw SQL of an accept                  (bench/negotiate_accept.py)
    load                200 partner users for 2 min with locust against a uvicorn this run starts:
                        failures, p50/p95/p99, peak Postgres connections vs
                        the same users on health/live                         (bench/load.py)
    admin_search        the back office's search at 200,000 rows vs the list
                        without a search (target: p50 under 50 ms)            (bench/admin_search.py)
    asgi_overhead       an authenticated market GET through the ASGI app vs
                        the WSGI handler, in process (target: <= 1.2x)        (bench/asgi_overhead.py)

They run against the configured database (not a test database): every row they create carries
this run's tag and is deleted at the end; rows of others are never changed (market_list and
reservations need the reference data, COTTON, its units and the gazetteer towns: on a database
without it they load it with the master seeders first, the only rows a run leaves). Results go to
bench/results/latest.json and a timestamped copy; a short table is printed at the end.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cotton_erp.settings")
# The concurrent benchmarks hold one connection per client thread for the whole round (16, plus
# this thread and a fence): the web's default pool of 10 made them wait out its timeout.
os.environ.setdefault("DB_POOL_MAX_SIZE", "24")

import django  # noqa: E402

django.setup()

from apps.core.runtime import freeze_startup_objects  # noqa: E402
from bench import common  # noqa: E402  (after setup: it imports the apps)

# As the web processes do once they are up (cotton_erp/asgi.py, wsgi.py): the requests measured
# here go through Django's handler in this process.
freeze_startup_objects()

RESULTS = REPO / "bench" / "results"
BENCHMARKS = (
    "relay_throughput",
    "latency",
    "webhook_throughput",
    "websocket_fanout",
    "market_list",
    "reservations",
    "exposure_reserve",
    "matching",
    "negotiate_accept",
    "load",
    "admin_search",
    "asgi_overhead",
)


def _environment() -> dict[str, Any]:
    from django.conf import settings

    from apps.core.redis import get_redis

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "postgres": (common.fetchone("SHOW server_version") or ["?"])[0],
        "database": settings.DATABASES["default"]["NAME"],
        "outbox_batch_size": settings.OUTBOX_BATCH_SIZE,
        "outbox_hint_debounce_ms": settings.OUTBOX_HINT_DEBOUNCE_MS,
    }
    try:
        info["redis"] = get_redis().info("server").get("redis_version")
    except Exception as exc:
        info["redis"] = f"unknown ({type(exc).__name__})"
    try:  # read-only: which code was measured
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except Exception:
        info["git_commit"] = None
    return info


def _selected(only: list[str] | None) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    names = [name.strip() for value in only for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return [name for name in BENCHMARKS if name in names]


def _table(results: dict[str, dict[str, Any]]) -> str:
    rows = [("benchmark", "figure", "baseline (same run)", "ratio (target)", "target met", "s")]
    for name, result in results.items():
        if "error" in result:
            error = result["error"].splitlines()[0][:120]
            rows.append((name, f"ERROR: {error}", "", "", "no", f"{result.get('seconds', 0):.0f}"))
            continue
        figure, baseline, ratio = importlib.import_module(f"bench.{name}").headline(result)
        met = result.get("target_met")
        rows.append(
            (
                name,
                figure,
                baseline,
                ratio,
                "-" if met is None else ("yes" if met else "NO"),
                f"{result['seconds']:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run (under a minute)")
    parser.add_argument("--only", action="append", metavar="NAME", help=f"run only these: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = _selected(args.only)

    started_at = datetime.now(UTC)
    started = time.perf_counter()
    print(f"bench run {common.RUN_TAG}: {', '.join(names)}{' (quick)' if args.quick else ''}", flush=True)
    report: dict[str, Any] = {
        "run": {"tag": common.RUN_TAG, "started_at": started_at.isoformat(), "quick": args.quick},
        "environment": _environment(),
        "benchmarks": {},
    }
    failed = False
    for name in names:
        print(f"- {name} ...", flush=True)
        module = importlib.import_module(f"bench.{name}")
        load_before = [round(value, 2) for value in os.getloadavg()]
        bench_started = time.perf_counter()
        try:
            result = module.run(quick=args.quick)
        except Exception as exc:
            failed = True
            traceback.print_exc()
            result = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        finally:
            common.close_db()
        result["seconds"] = round(time.perf_counter() - bench_started, 1)
        # The machine's load (1, 5, 15 min) around the benchmark: how noisy its absolute figures are.
        result["load_average"] = {"before": load_before, "after": [round(v, 2) for v in os.getloadavg()]}
        report["benchmarks"][name] = result
        print(f"  done in {result['seconds']:.1f} s", flush=True)

    report["run"]["seconds"] = round(time.perf_counter() - started, 1)
    report["run"]["all_targets_met"] = not failed and all(
        result.get("target_met") is not False for result in report["benchmarks"].values()
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str) + "\n"
    stamped = RESULTS / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}{'-quick' if args.quick else ''}.json"
    stamped.write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")

    print()
    print(_table(report["benchmarks"]))
    print(f"\n{report['run']['seconds']:.0f} s; results in {RESULTS / 'latest.json'} and {stamped.name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
