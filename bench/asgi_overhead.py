"""asgi_overhead: one authenticated GET through the ASGI application next to the same request
through Django's WSGI handler, in this process (issue 15: at most 1.2x).

Rows: an organization of this run with two ginners and a mill (bench/tradedesk_data.py), 500
ACTIVE availabilities of COTTON (200 with --quick), then ANALYZE.

Request: `GET /api/v1/market/availabilities/?page_size=50` as the mill's owner with a JWT access
token: the whole middleware stack, DRF authentication, the market's SQL and serializers.

- baseline: `django.core.handlers.wsgi.WSGIHandler` called with a WSGI environ (what gunicorn
  calls per request), in this thread;
- figure: `cotton_erp.asgi.application` (Channels' router, the body-limit ASGI middleware,
  Django's ASGIHandler) called with an HTTP scope on an event loop, as uvicorn calls it: the body
  in one `http.request`, `receive` then waits for a disconnect that never comes; the response is
  collected from `send`. Sync code runs where Django puts it (the view in a thread of its own).

In the same rounds, a third side: Django's stock `ASGIHandler` (the middleware chain in async
mode), the other value of settings.ASGI_ONE_THREAD (apps/core/asgi_handler.py).

Both clients are a few lines, so neither side pays for a client library the other does not.
The requests alternate (WSGI, ASGI, stock ASGI, WSGI, ...), so drift on a shared machine hits both sides; the
WSGI one runs in a thread of its own, as a threaded WSGI server runs it (Django refuses database
access in a thread whose event loop runs), timed inside that thread. The ratio is the median
over rounds of ASGI p50 / WSGI p50 (lower is better, target <= 1.2).
Checks: both answer 200 with the same page (ids of the 50 rows).

Also recorded: the Django ASGI handler in use (settings.ASGI_ONE_THREAD), the thread hops of one
ASGI request (each sync_to_async / async_to_sync, by function) and the middleware that is not
async-capable.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings

from bench.common import create_organization, delete_organizations_and_users, require, summary_ms
from bench.tradedesk_data import (
    build_availabilities,
    create_partners,
    delete_tradedesk_rows,
    ensure_masters,
    insert_availabilities,
    vacuum_tradedesk,
)

NAME = "asgi_overhead"
PATH = "/api/v1/market/availabilities/"
QUERY = "page_size=50"
TARGET = 1.2
SELLERS = [("Shree Rajkot Ginning Private Limited", "24"), ("Kadi Cotton Industries", "24")]
BUYER = ("Coimbatore Spinning Mills Limited", "33")


def _host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def _token(user: Any) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.tokens import ISSUED_AT_US_CLAIM

    token = AccessToken.for_user(user)
    token["user_type"] = user.user_type
    token[ISSUED_AT_US_CLAIM] = int(token.current_time.timestamp() * 1_000_000)
    return str(token)


# --- the two clients ------------------------------------------------------------------------------


class WsgiClient:
    def __init__(self, token: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.token = token

    def get(self) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": PATH,
            "QUERY_STRING": QUERY,
            "SERVER_NAME": _host(),
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": _host(),
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        status: list[str] = []

        def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(line)
            return lambda data: None

        response = self.handler(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()  # type: ignore[attr-defined]  # sends request_finished, as servers do
        return int(status[0].split()[0]), body


class AsgiClient:
    def __init__(self, token: str, app: Any = None) -> None:
        from cotton_erp.asgi import application

        self.app = application if app is None else app
        self.token = token

    async def get(self) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": PATH,
            "raw_path": PATH.encode(),
            "query_string": QUERY.encode(),
            "root_path": "",
            "headers": [(b"host", _host().encode()), (b"authorization", f"Bearer {self.token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": (_host(), 8000),
        }
        sent_body = False
        never = asyncio.get_running_loop().create_future()
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await never  # the client stays connected; Django cancels this when it has answered
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        never.cancel()
        return status, b"".join(chunks)


def _ids(status: int, body: bytes, side: str) -> list[str]:
    require(status == 200, f"{side}: {status} {body[:300]!r}")
    rows = json.loads(body)["results"]
    require(len(rows) == 50, f"{side}: {len(rows)} rows")
    return [row["id"] for row in rows]


def _wsgi_timed(client: WsgiClient) -> float:
    started = time.perf_counter()
    status, _body = client.get()
    elapsed = time.perf_counter() - started
    require(status == 200, f"WSGI: {status}")
    return elapsed


async def _asgi_timed(client: AsgiClient) -> float:
    started = time.perf_counter()
    status, _body = await client.get()
    elapsed = time.perf_counter() - started
    require(status == 200, f"ASGI: {status}")
    return elapsed


async def _round(
    wsgi: WsgiClient, asgi: AsgiClient, stock: AsgiClient, wsgi_thread: ThreadPoolExecutor, count: int
) -> Any:
    """`count` triples, one request of each in turn. The WSGI request runs (and is timed) in a
    thread of its own, as a threaded WSGI server runs it: Django refuses database access from a
    thread with a running event loop. The hand-off is outside the timed part."""
    loop = asyncio.get_running_loop()
    wsgi_samples, asgi_samples, stock_samples = [], [], []
    for _ in range(count):
        wsgi_samples.append(await loop.run_in_executor(wsgi_thread, _wsgi_timed, wsgi))
        asgi_samples.append(await _asgi_timed(asgi))
        stock_samples.append(await _asgi_timed(stock))
    return wsgi_samples, asgi_samples, stock_samples


def _stock_app() -> Any:
    """Django's own ASGIHandler (the middleware chain in async mode) behind the same body-limit
    ASGI middleware: the other side of settings.ASGI_ONE_THREAD, measured in the same rounds."""
    from django.core.handlers.asgi import ASGIHandler

    from apps.core.body_limit import BodyLimitASGIMiddleware

    return BodyLimitASGIMiddleware(ASGIHandler())


def _sync_only_middleware() -> list[str]:
    """The middleware that is not async-capable: under Django's stock ASGIHandler the chain
    around it switches mode (a hop to a thread, and its inner chain back to the loop)."""
    from asgiref.sync import iscoroutinefunction
    from django.utils.module_loading import import_string

    return [
        dotted
        for dotted in settings.MIDDLEWARE
        if not getattr(import_string(dotted), "async_capable", False) and not iscoroutinefunction(import_string(dotted))
    ]


def _hops(client: AsgiClient) -> dict[str, Any]:
    """The thread hops of one ASGI request: each sync_to_async / async_to_sync call and each
    call to an executor from the event loop (the project's handler), by function."""
    from asgiref import sync

    calls: list[str] = []
    to_thread, to_loop = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__
    in_executor = asyncio.BaseEventLoop.run_in_executor

    def counted_in_executor(self: Any, executor: Any, func: Any, *args: Any) -> Any:
        # The handler passes context.run(function, ...): name the function it runs.
        target = args[0] if getattr(func, "__qualname__", "") == "Context.run" and args else func
        if getattr(executor, "_thread_name_prefix", "").startswith("asgi-request"):
            calls.append(f"run_in_executor {getattr(target, '__qualname__', '?')}")
        return in_executor(self, executor, func, *args)

    def counted_to_thread(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"sync_to_async {getattr(self.func, '__qualname__', '?')}")
        return to_thread(self, *args, **kwargs)

    def counted_to_loop(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"async_to_sync {getattr(self.awaitable, '__qualname__', '?')}")
        return to_loop(self, *args, **kwargs)

    sync.SyncToAsync.__call__ = counted_to_thread  # type: ignore[method-assign]
    sync.AsyncToSync.__call__ = counted_to_loop  # type: ignore[method-assign]
    asyncio.BaseEventLoop.run_in_executor = counted_in_executor  # type: ignore[method-assign,assignment]
    try:
        asyncio.run(client.get())
    finally:
        sync.SyncToAsync.__call__ = to_thread  # type: ignore[method-assign]
        sync.AsyncToSync.__call__ = to_loop  # type: ignore[method-assign]
        asyncio.BaseEventLoop.run_in_executor = in_executor  # type: ignore[method-assign]
    return {"count": len(calls), "calls": calls}


def run(*, quick: bool) -> dict[str, Any]:
    count = 200 if quick else 500
    rounds = 5 if quick else 7
    per_round = 40 if quick else 150
    organization = None
    try:
        organization = create_organization("asgi")
        masters = ensure_masters()
        partners = create_partners(organization, [*SELLERS, BUYER])
        sellers, buyer = partners[:-1], partners[-1]
        insert_availabilities(build_availabilities(count, organization=organization, sellers=sellers, masters=masters))
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tradedesk_availability")
        token = _token(buyer.owner)
        wsgi = WsgiClient(token)
        asgi = AsgiClient(token)
        stock = AsgiClient(token, _stock_app())
        require(
            _ids(*wsgi.get(), "WSGI") == _ids(*asyncio.run(asgi.get()), "ASGI"),
            "WSGI and ASGI answered different pages",
        )
        wsgi_all: list[float] = []
        asgi_all: list[float] = []
        stock_all: list[float] = []
        ratios = []
        stock_ratios = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsgi") as wsgi_thread:
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(_round(wsgi, asgi, stock, wsgi_thread, 10))  # warm-up: caches, the pool
                for _ in range(rounds):
                    wsgi_samples, asgi_samples, stock_samples = loop.run_until_complete(
                        _round(wsgi, asgi, stock, wsgi_thread, per_round)
                    )
                    wsgi_all.extend(wsgi_samples)
                    asgi_all.extend(asgi_samples)
                    stock_all.extend(stock_samples)
                    ratios.append(statistics.median(asgi_samples) / statistics.median(wsgi_samples))
                    stock_ratios.append(statistics.median(stock_samples) / statistics.median(wsgi_samples))
            finally:
                loop.close()
        hops = _hops(asgi)
        stock_hops = _hops(stock)
    finally:
        if organization is not None:
            delete_tradedesk_rows(organization.pk)
        delete_organizations_and_users()
        vacuum_tradedesk()

    from cotton_erp.asgi import django_asgi_app

    ratio = statistics.median(ratios)
    mean_ratio = statistics.fmean(asgi_all) / statistics.fmean(wsgi_all)
    return {
        "params": {
            "request": f"GET {PATH}?{QUERY} as a partner's owner with a JWT access token",
            "availabilities": count,
            "rounds": rounds,
            "requests_per_round_per_side": per_round,
            "clients": "in-process, one request at a time, alternating: WSGIHandler(environ) in a thread / "
            "asgi.application(scope) on the event loop",
            "db_pool": bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool")),
            "masters_seeded": masters.seeded,
        },
        "figure": {"what": "ASGI (cotton_erp.asgi.application)", "latency": summary_ms(asgi_all)},
        "baseline": {"what": "WSGI (django.core.handlers.wsgi.WSGIHandler)", "latency": summary_ms(wsgi_all)},
        "ratio": round(ratio, 4),
        "ratio_each_round": [round(r, 4) for r in ratios],
        "ratio_of_means": round(mean_ratio, 4),
        "ratio_meaning": "median over paired rounds of ASGI p50 / WSGI p50 (lower is better)",
        "asgi_handler": type(django_asgi_app).__name__,
        "asgi_hops_per_request": hops,
        "stock_asgi_handler": {
            "what": "Django's ASGIHandler, the middleware chain in async mode, same rounds",
            "latency": summary_ms(stock_all),
            "ratio": round(statistics.median(stock_ratios), 4),
            "ratio_each_round": [round(r, 4) for r in stock_ratios],
            "hops_per_request": stock_hops,
        },
        "sync_only_middleware": _sync_only_middleware(),
        "target": {"ratio_at_most": TARGET},
        "target_met": ratio <= TARGET,
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    return (
        f"ASGI p50 {result['figure']['latency']['p50_ms']:.2f} ms, {result['asgi_hops_per_request']['count']} hops "
        f"(stock handler {result['stock_asgi_handler']['ratio']:.2f}x, "
        f"{result['stock_asgi_handler']['hops_per_request']['count']} hops)",
        f"WSGI p50 {result['baseline']['latency']['p50_ms']:.2f} ms (mean {result['baseline']['latency']['mean_ms']:.2f})",
        f"{result['ratio']:.3f} (<= {TARGET})",
    )
