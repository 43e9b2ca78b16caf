"""Browser tests of the back office: Playwright driving Debian's chromium (the partners browser
tests' fixture) against the project's ASGI application served by uvicorn in a thread, so the
admin's websocket works as under `make run` (the `live_server` fixture speaks HTTP only)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from apps.partners.tests.browser.conftest import browser_page  # noqa: F401 - the shared fixture
from cotton_erp.testing import serve_asgi

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def asgi_server(transactional_db: Any) -> Iterator[str]:
    with serve_asgi() as port:
        yield f"http://127.0.0.1:{port}"
