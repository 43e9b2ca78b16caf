"""Fixtures shared by every app's tests: real PostgreSQL and Redis, no mocks of our own stack."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Each xdist worker owns its Redis databases (settings); start every test from empty."""
    from apps.core.redis import get_redis

    client = get_redis()
    client.flushdb()
    yield
    client.flushdb()


@pytest.fixture(autouse=True)
def _cold_caller(request: pytest.FixtureRequest, settings: Any) -> None:
    """Query counts pinned across the suite count a cold caller: every request reads its user row
    (and membership) as the first request of a user in a process does. The caller cache's own
    tests, and those pinning the warm counts, are marked `caller_cache` and run with it."""
    if request.node.get_closest_marker("caller_cache") is None:
        settings.CALLER_CACHE_ENABLED = False


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def organization(db: Any) -> Any:
    from apps.organizations.tests.factories import OrganizationFactory

    return OrganizationFactory()


@pytest.fixture
def other_organization(db: Any) -> Any:
    from apps.organizations.tests.factories import OrganizationFactory

    return OrganizationFactory()


@pytest.fixture
def authenticate(api_client: APIClient) -> Callable[[Any], APIClient]:
    """`authenticate(user)` -> the API client carrying a fresh access token of that user."""
    from apps.accounts.tokens import issue_tokens

    def _authenticate(user: Any) -> APIClient:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
        return api_client

    return _authenticate


@dataclass
class ThreadResult:
    value: Any = None
    error: BaseException | None = None


@pytest.fixture
def run_concurrently() -> Callable[..., list[ThreadResult]]:
    """Run `fn` in `times` threads released together; each thread uses its own DB connection
    (use with `@pytest.mark.django_db(transaction=True)`)."""

    def _run(fn: Callable[[], Any], *, times: int) -> list[ThreadResult]:
        barrier = threading.Barrier(times)
        results = [ThreadResult() for _ in range(times)]

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=10)
                results[i].value = fn()
            except BaseException as exc:
                results[i].error = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(times)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return results

    return _run


def pytest_report_header(config: Any) -> str:
    db = settings.DATABASES["default"]
    return f"cotton-erp: postgres {db.get('HOST')}:{db.get('PORT')} redis {settings.REDIS_CACHE_URL.rsplit('@', 1)[-1]}"
