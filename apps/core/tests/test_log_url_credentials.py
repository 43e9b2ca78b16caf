"""No credential from a URL reaches a log line: uvicorn writes a websocket's path with its query
string, and the realtime ticket rides in it."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def captured() -> list[logging.LogRecord]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("uvicorn.error")
    # The level is uvicorn's to set (its CLI's --log-level); what is tested is the filter that the
    # project's LOGGING puts on the logger, so the line is let through at INFO whatever ran before.
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_uvicorns_websocket_line_shows_the_path_but_not_the_ticket(captured):
    # The very call uvicorn's websocket protocol makes when it accepts a connection.
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:51234", "/ws/v1/stream/?ticket=vXHzIcEFzJ9ltozgBsQZkMBr5jX&x=1"
    )

    assert [r.getMessage() for r in captured] == [
        '127.0.0.1:51234 - "WebSocket /ws/v1/stream/?ticket=***&x=1" [accepted]'
    ]


def test_a_line_without_credentials_is_left_as_it_was(captured):
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:1", "/ws/v1/ping/")

    assert [r.getMessage() for r in captured] == ['127.0.0.1:1 - "WebSocket /ws/v1/ping/" [accepted]']
