"""Idempotency-Key and the audit context under ASGI (issue 15): the same answers as under WSGI
through the project's ASGI handler (`OneThreadASGIHandler`: the chain in sync mode, one hop to
the request's thread) and through Django's stock `ASGIHandler` (the chain in async mode, the
middleware's `__acall__`).

The ASGI application is called in-process the way uvicorn calls it, from a plain event loop
(`asyncio.run`), so every request runs its sync code in a thread of its own (asgiref's
ThreadSensitiveContext) with its own database connection: the tests commit (transactional) and
the audit rows prove that pghistory's thread-local context reached the view's thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.accounts.tests.factories import UserFactory
from apps.accounts.tokens import issue_tokens
from apps.core.audit import AuditContextMiddleware
from apps.core.idempotency import REPLAYED_HEADER, IdempotencyMiddleware
from apps.core.models import IdempotencyRecord, IdempotencyState
from apps.core.tests.urls_idempotency import CALLS
from apps.organizations.models import Organization

pytestmark = pytest.mark.urls("apps.core.tests.urls_idempotency")

OrganizationEvent = apps.get_model("organizations", "OrganizationEvent")

ORGANIZATIONS = "/api/v1/test/organizations"
CRASH = "/api/v1/test/crash"
KEY = "3b9d7c1e-0a4f-4e2b-8c6d-5f1a2e3b4c5d"


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    yield
    CALLS.clear()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _application(handler: str) -> Any:
    """The HTTP route of cotton_erp.asgi (which core may not import: import contracts) with the
    project's handler, or with Django's stock one."""
    from django.core.handlers.asgi import ASGIHandler

    from apps.core.asgi_handler import OneThreadASGIHandler
    from apps.core.body_limit import BodyLimitASGIMiddleware

    return BodyLimitASGIMiddleware(OneThreadASGIHandler() if handler == "project" else ASGIHandler())


def _call(app: Any, method: str, path: str, *, headers: dict[str, str], body: bytes = b"") -> Answer:
    """One request as uvicorn makes it: an http scope, the body in one message, then a receive
    that waits for a disconnect that never comes (Django cancels it once it has answered)."""

    async def request() -> Answer:
        never = asyncio.get_running_loop().create_future()
        sent = False
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await never
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(name.lower().encode(), value.encode()) for name, value in headers.items()]
            + ([(b"content-length", str(len(body)).encode())] if body else []),
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await app(scope, receive, send)
        never.cancel()
        answer_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return Answer(start["status"], answer_headers, b"".join(chunks))

    return asyncio.run(request())


def _headers(user: Any, *, request_id: str, key: str | None = KEY) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {issue_tokens(user).access}",
        "Content-Type": "application/json",
        "X-Request-ID": request_id,
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("handler", ["project", "stock"])
def test_under_asgi_a_repeat_replays_a_reuse_is_refused_and_the_write_carries_the_audit_context(handler):
    user = UserFactory()
    app = _application(handler)
    body = json.dumps({"code": "ASGI-1", "name": "Async House"}).encode()

    first = _call(app, "POST", ORGANIZATIONS, headers=_headers(user, request_id="asgi-audit-0001"), body=body)
    second = _call(app, "POST", ORGANIZATIONS, headers=_headers(user, request_id="asgi-audit-0002"), body=body)
    reused = _call(
        app,
        "POST",
        ORGANIZATIONS,
        headers=_headers(user, request_id="asgi-audit-0003"),
        body=json.dumps({"code": "ASGI-2", "name": "Another House"}).encode(),
    )

    assert first.status == 201
    assert REPLAYED_HEADER.lower() not in first.headers
    assert second.status == 201
    assert second.headers[REPLAYED_HEADER.lower()] == "true"
    assert second.headers["x-request-id"] == "asgi-audit-0002"
    assert second.body == first.body
    assert second.headers["location"] == first.headers["location"] == f"{ORGANIZATIONS}/{first.json()['id']}"
    assert reused.status == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert CALLS["organization_create"] == 1
    assert list(Organization.objects.filter(code__startswith="ASGI-").values_list("code", flat=True)) == ["ASGI-1"]
    record = IdempotencyRecord.objects.get(user_id=user.pk, key=KEY)
    assert (record.state, record.status_code) == (IdempotencyState.COMPLETED, 201)
    event = OrganizationEvent.objects.get(pgh_obj_id=first.json()["id"], pgh_label="insert")
    assert event.pgh_context.metadata == {"user": str(user.pk), "url": ORGANIZATIONS, "request_id": "asgi-audit-0001"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("handler", ["project", "stock"])
def test_under_asgi_a_5xx_releases_the_key_so_the_retry_runs_again(handler):
    user = UserFactory()
    app = _application(handler)

    first = _call(app, "POST", CRASH, headers=_headers(user, request_id="asgi-crash-0001"), body=b"{}")
    retry = _call(app, "POST", CRASH, headers=_headers(user, request_id="asgi-crash-0002"), body=b"{}")

    assert first.status == retry.status == 500
    assert REPLAYED_HEADER.lower() not in retry.headers
    assert CALLS["crash"] == 2
    assert not IdempotencyRecord.objects.filter(user_id=user.pk, key=KEY).exists()


def test_the_project_serves_http_with_the_one_thread_handler():
    assert settings.ASGI_ONE_THREAD is True  # cotton_erp.asgi builds OneThreadASGIHandler then


def test_the_middleware_takes_the_mode_of_the_chain_it_is_given():
    def sync_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    for middleware_class in (IdempotencyMiddleware, AuditContextMiddleware):
        assert middleware_class.sync_capable is True
        assert middleware_class.async_capable is True
        assert iscoroutinefunction(middleware_class(async_view)) is True
        assert iscoroutinefunction(middleware_class(sync_view)) is False
    # Async: no hop to a thread just to learn that a GET carries no key.
    assert iscoroutinefunction(IdempotencyMiddleware(async_view).process_view) is True
    assert iscoroutinefunction(IdempotencyMiddleware(sync_view).process_view) is False
