"""The ASGI handler of the HTTP app (issue 15): Django's request handling, with the request's
whole sync life in one call to a thread kept between requests.

Django's `ASGIHandler` builds the middleware chain in async mode. Each middleware in it that is
not natively async costs the request a hop from the event loop to the request's thread and back,
and in async mode Django's own middleware (`MiddlewareMixin`: sessions, CSRF, auth, messages,
...) hops for each `process_request` and `process_response`, as does every sync
`process_view`, the sync view and the rendering of a DRF response: 17 to 19 hops per request
here. On top, `request_started` and `request_finished` hop once each, and every request gets a
thread of its own (`ThreadSensitiveContext`: a new executor, so a new thread, per request).
Every view of this project is sync, so that bought nothing: on the shared 2-core machine the
ASGI request cost 1.4-1.7x the WSGI one (bench/asgi_overhead.py).

`OneThreadASGIHandler` loads the middleware in sync mode, as the WSGI handler does, reads the
body on the event loop, then runs `_serve` in one call to a pool of threads kept between requests
(as a threaded WSGI server keeps its threads): `request_started`, the request object, the whole
chain, the view and the rendering, and for a response already in memory `request_finished`
(`response.close()`: the thread's database connection goes back to the pool before the bytes are
sent). The response is then sent from the event loop; a streaming one (a file) is read while
sending and closed after, in a pool thread. Middleware, views and database access see what they
see under WSGI, pghistory's thread-local context included; `async_to_sync` inside a view runs as
it does under WSGI. The pool is `ASGI_REQUEST_THREADS` threads: past that many requests at once,
a request waits for a thread (the database pool is the tighter bound anyway).

Not kept from Django's handler: listening for a client's disconnect while the view runs (Django
cancels the task, but a sync view in its thread runs to its end either way).

The middleware of this project stays sync- and async-capable: the stock `ASGIHandler` (Django's
`AsyncClient` in tests) runs it in async mode.
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix


class OneThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._threads = ThreadPoolExecutor(max_workers=settings.ASGI_REQUEST_THREADS, thread_name_prefix="asgi-request")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request's context vars (request id, structlog) in the thread
        try:
            response = await loop.run_in_executor(self._threads, context.run, self._serve, scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await loop.run_in_executor(self._threads, context.run, response.close)
        finally:
            body_file.close()

    def _serve(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The request's sync life in this thread: request_started, the request, the middleware
        chain and the view, and for a response in memory request_finished too."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]  # as Django's handler marks it
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None  # create_request answers a request or an error response
        if response.streaming:
            # request_finished waits for the content to be sent; this thread's connection goes
            # back to the pool now, as request_finished would give it back.
            close_old_connections()
        else:
            response.close()
        return response
