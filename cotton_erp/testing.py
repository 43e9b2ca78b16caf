"""Test support that needs the whole project: its ASGI application under a real uvicorn, in a
thread of the test process (so it sees the test database), for tests that need what the
in-process communicators cannot give: a real websocket client, a browser. It lives in the project
package because apps may not import `cotton_erp.asgi` (import contracts), their tests may.

Why one helper and not a fixture per app: a uvicorn in a thread leaves two pieces of process-wide
state behind it that broke later tests on the same xdist worker (CI, stop 10):
- the channel layer: the server's consumers call `receive()` on the process's cached Redis layer
  from the server thread's event loop; a receive cut off by the shutdown leaves the layer bound to
  that dead loop, and every later websocket test fails with "Two event loops are trying to
  receive() on one channel layer at once!". The cached layers are dropped before and after.
- logging: `uvicorn.Config` runs its own `dictConfig` (the `uvicorn*` loggers at the given level,
  their own handlers, no propagation), so a later test reading `uvicorn.error` at INFO saw
  nothing. Their state is put back as it was.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


@dataclass(frozen=True)
class _LoggerState:
    level: int
    propagate: bool
    disabled: bool
    handlers: list[logging.Handler]
    filters: list[Any]


def _snapshot() -> dict[str, _LoggerState]:
    states = {}
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        states[name] = _LoggerState(
            logger.level, logger.propagate, logger.disabled, list(logger.handlers), list(logger.filters)
        )
    return states


def _restore(states: dict[str, _LoggerState]) -> None:
    for name, state in states.items():
        logger = logging.getLogger(name)
        logger.setLevel(state.level)
        logger.propagate, logger.disabled = state.propagate, state.disabled
        logger.handlers[:] = state.handlers
        logger.filters[:] = state.filters


def _drop_cached_channel_layers() -> None:
    from channels.layers import channel_layers

    channel_layers.backends.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_asgi(*, ws: str = "auto", start_timeout: float = 20.0) -> Iterator[int]:
    """Serve `cotton_erp.asgi.application` on a free port; yields the port. Stops the server,
    then restores the channel layer and the uvicorn loggers, whatever the test did."""
    import uvicorn

    from cotton_erp.asgi import application

    states = _snapshot()
    _drop_cached_channel_layers()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws=ws)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        _drop_cached_channel_layers()
        _restore(states)
