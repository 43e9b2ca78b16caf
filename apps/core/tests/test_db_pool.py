"""PostgreSQL connections under uvicorn are bounded by the pool (issue 14, item 2).

With `CONN_MAX_AGE` and ASGI every request ran in a thread of its own, kept its connection and
never gave it back: parallel GETs left one connection each until PostgreSQL refused new clients
and sign-in answered 500. A real uvicorn (started here, on a free port, on this test's database
and Redis) now serves 200 parallel requests through a bounded pool; a burst larger than the pool
waits for a connection or answers 503 `database_busy`, never 500."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import pytest
from django.conf import settings
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import issue_tokens

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REQUESTS = 200


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if os.environ.get("DATABASE_URL"):
        return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{db['NAME']}"))
    auth = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The uvicorn under test names its connections (libpq reads PGAPPNAME), so the count is the
# server's alone: connections other tests of this worker left to the same database (live
# servers, thread pools) must not count against the pool's bound.
SERVER_APP_NAME = "cotton-pool-under-test"


def _server_connections() -> int:
    """Connections of the uvicorn under test to this test's database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [SERVER_APP_NAME],
        )
        return int(cursor.fetchone()[0])


@pytest.fixture
def uvicorn(tmp_path: Path) -> Iterator[object]:
    """`start(**env)` -> the base URL of a uvicorn serving the real ASGI app with the pool on."""
    started: list[tuple[subprocess.Popen, Path]] = []

    def start(**extra_env: str) -> str:
        port = _free_port()
        log_path = tmp_path / f"uvicorn-{port}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "DB_POOL": "1",  # the pool is off in the test process itself (docs/decisions.md)
            "PYTHONUNBUFFERED": "1",
            "PGAPPNAME": SERVER_APP_NAME,
            **extra_env,
        }
        command = [sys.executable, "-m", "uvicorn", "cotton_erp.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--lifespan", "off", "--log-level", "warning"]
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT
        )
        started.append((process, log_path))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health/live", timeout=2).status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"uvicorn did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    yield start
    for process, _ in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _burst(base: str, headers: dict[str, str], count: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        return list(await asyncio.gather(*(client.get("/api/v1/me") for _ in range(count))))


def test_two_hundred_parallel_requests_leave_at_most_the_pool_open(uvicorn):
    user = UserFactory()
    headers = {"Authorization": f"Bearer {issue_tokens(user).access}"}
    base = uvicorn(DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="4", DB_POOL_TIMEOUT_SECONDS="30")

    responses = asyncio.run(_burst(base, headers, REQUESTS))

    assert sorted({r.status_code for r in responses}) == [200]
    assert all(r.json()["user"]["email"] == user.email for r in responses)
    assert 1 <= _server_connections() <= 4
    time.sleep(1)  # nothing is left behind after the burst either
    assert 1 <= _server_connections() <= 4


def test_a_burst_over_a_busy_pool_answers_503_database_busy_never_500(uvicorn):
    user = UserFactory()
    headers = {"Authorization": f"Bearer {issue_tokens(user).access}"}
    base = uvicorn(DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="1", DB_POOL_TIMEOUT_SECONDS="0.05")

    responses = asyncio.run(_burst(base, headers, REQUESTS))

    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 503}, sorted(statuses)
    busy = [r for r in responses if r.status_code == 503]
    assert busy, "one connection for 200 parallel requests with a 50 ms wait: some must be refused"
    body = busy[0].json()
    assert body["code"] == "database_busy"
    assert body["type"] == "server_error"
    assert set(body) == {"type", "code", "detail", "errors", "request_id"}
    assert busy[0].headers["Retry-After"] == "1"
    assert _server_connections() <= 1
