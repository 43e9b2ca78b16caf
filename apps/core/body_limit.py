"""One size limit for every API request body, enforced before the body is read (issue 14).

`API_BODY_MAX_BYTES` (2.5 MB) for every `/api/` body, except the paths of
`API_BODY_LIMIT_OVERRIDES` (KYC document uploads get their document limit plus room for the form).
Over the limit: 413 `payload_too_large` in the error shape.

Two layers, one rule (`body_limit_for`):
- `BodyLimitASGIMiddleware` wraps the Django ASGI app (cotton_erp/asgi.py). Django's ASGI handler
  reads the whole body into a temporary file before any middleware runs, so the check must come
  first: a declared Content-Length over the limit is refused before a byte is read, and a chunked
  body is counted as it arrives and refused as soon as it passes the limit.
- `BodyLimitMiddleware` (Django, after the request id) does the Content-Length check under WSGI
  and the test client, before anything (the idempotency middleware, DRF's parsers) reads the body.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any

import orjson
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.errors import PayloadTooLarge
from apps.core.exception_handler import error_body
from apps.core.request_context import reset_request_id, sanitize_request_id, set_request_id

API_PREFIX = "/api/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def body_limit_for(path: str) -> int | None:
    """The largest body accepted at `path` in bytes; None outside the API (Django's own limits)."""
    if not path.startswith(API_PREFIX):
        return None
    for pattern, limit in settings.API_BODY_LIMIT_OVERRIDES:
        if _compiled(pattern).match(path):
            return int(limit)
    return int(settings.API_BODY_MAX_BYTES)


def _too_large_body(limit: int) -> dict[str, Any]:
    refusal = PayloadTooLarge(f"The request body may be at most {limit} bytes here.")
    return error_body(status_code=refusal.status, code=refusal.code, detail=refusal.detail)


class BodyLimitMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        limit = body_limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None  # Django refuses a malformed length itself
        if limit is not None and length > limit:
            return JsonResponse(_too_large_body(limit), status=413)
        return None

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._refusal(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        return self._refusal(request) or await self.get_response(request)  # type: ignore[misc]


class BodyLimitASGIMiddleware:
    def __init__(self, app: Any) -> None:  # an ASGI application (Django's handler)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            # The server holds the client to its declared length, so the header is the whole check.
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(scope, send, limit)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read and count before Django sees any of it.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(scope, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = sanitize_request_id(incoming)
        token = set_request_id(request_id)
        try:
            body = orjson.dumps(_too_large_body(limit))
        finally:
            reset_request_id(token)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
