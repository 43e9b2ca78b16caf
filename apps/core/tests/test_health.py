"""Liveness says the process serves requests; readiness checks the database, Redis and the Celery
broker and answers 503 when one of them is down."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def silent_redis_url() -> Iterator[str]:
    """A port that accepts TCP connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()


def test_live_answers_ok_without_authentication(api_client):
    response = api_client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_live_ignores_a_bad_bearer_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_reports_database_redis_and_broker_ok_without_authentication(api_client):
    response = api_client.get("/api/v1/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert [(c["name"], c["ok"], c["error"]) for c in body["checks"]] == [
        ("database", True, None),
        ("redis", True, None),
        ("celery_broker", True, None),
    ]
    for check in body["checks"]:
        assert set(check) == {"name", "ok", "latency_ms", "error"}
        assert isinstance(check["latency_ms"], float)
        assert check["latency_ms"] >= 0


@pytest.mark.django_db
def test_ready_is_503_unavailable_when_redis_and_the_broker_are_down(api_client):
    # override_settings (not the `settings` fixture) so the URLs are back before the autouse
    # Redis flush tears down.
    started = time.perf_counter()
    with override_settings(
        REDIS_CACHE_URL=CLOSED_PORT_REDIS, CELERY_BROKER_URL=CLOSED_PORT_REDIS, HEALTH_CHECK_TIMEOUT_SECONDS=0.5
    ):
        response = api_client.get("/api/v1/health/ready")
    elapsed = time.perf_counter() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    checks = {c["name"]: c for c in body["checks"]}
    assert list(checks) == ["database", "redis", "celery_broker"]
    assert (checks["database"]["ok"], checks["database"]["error"]) == (True, None)
    assert checks["redis"]["ok"] is False
    assert checks["redis"]["error"] == "ConnectionError"
    assert checks["celery_broker"]["ok"] is False
    assert checks["celery_broker"]["error"] == "OperationalError"
    # A refused connection fails at once: no retry sleep (kombu's first one alone is 2 s). The
    # bounds leave room for a loaded CI machine.
    assert checks["redis"]["latency_ms"] < 1500
    assert checks["celery_broker"]["latency_ms"] < 1500
    assert elapsed < 3


@pytest.mark.django_db
def test_ready_gives_up_on_a_hung_redis_and_broker_within_the_timeout(api_client, silent_redis_url):
    started = time.perf_counter()
    with override_settings(
        REDIS_CACHE_URL=silent_redis_url, CELERY_BROKER_URL=silent_redis_url, HEALTH_CHECK_TIMEOUT_SECONDS=0.5
    ):
        response = api_client.get("/api/v1/health/ready")
    elapsed = time.perf_counter() - started

    assert response.status_code == 503
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert (checks["redis"]["ok"], checks["redis"]["error"]) == (False, "TimeoutError")
    assert (checks["celery_broker"]["ok"], checks["celery_broker"]["error"]) == (False, "OperationalError")
    assert checks["database"]["ok"] is True
    # Each probe stops at HEALTH_CHECK_TIMEOUT_SECONDS (0.5 s), with slack for a busy machine but
    # well short of a retry (2 s sleep plus another 0.5 s attempt).
    assert 400 <= checks["redis"]["latency_ms"] < 1500
    assert 400 <= checks["celery_broker"]["latency_ms"] < 1500
    assert elapsed < 4


@pytest.mark.django_db
def test_ready_is_503_when_only_the_broker_is_down(api_client):
    with override_settings(CELERY_BROKER_URL=CLOSED_PORT_REDIS, HEALTH_CHECK_TIMEOUT_SECONDS=0.5):
        response = api_client.get("/api/v1/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert [(c["name"], c["ok"]) for c in body["checks"]] == [
        ("database", True),
        ("redis", True),
        ("celery_broker", False),
    ]
