"""The ASGI handler of the HTTP app (issue 15): Django's, with the middleware chain and the view
run in one hop to the request's thread.

Django's `ASGIHandler` builds the middleware chain in async mode. Each middleware in it that is
not natively async costs the request a hop from the event loop to the request's thread and back,
and in async mode Django's own middleware (`MiddlewareMixin`: sessions, CSRF, auth, messages,
...) hops for each `process_request` and `process_response`, as does every sync
`process_view`, the sync view and the rendering of a DRF response: 17 to 19 hops per request
here. Every view of this project is sync, so that bought nothing: on the shared 2-core machine a
hop cost 0.1-0.2 ms and the ASGI request 1.4-1.7x the WSGI one (bench/asgi_overhead.py).

`OneThreadASGIHandler` keeps Django's ASGI request handling (the body read, disconnects, the
response sending, the request_started/finished signals, a thread per request through
`ThreadSensitiveContext`) and loads the middleware in sync mode, as the WSGI handler does, then
runs `get_response` (the whole chain, the view, the rendering) in one `sync_to_async` call, thread
sensitive: the thread Django's signals of the same request run in. Middleware, views and
database access see what they see under WSGI (pghistory's thread-local context included); an
async view would run through `async_to_sync` in that thread, as under WSGI.

The middleware of this project stays sync- and async-capable: the stock `ASGIHandler` (Django's
`AsyncClient` in tests) runs it in async mode.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest


class OneThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> Any:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
