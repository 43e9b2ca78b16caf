"""X-Request-ID: accept a sane incoming id or make one, echo it, bind it into every log line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from apps.core.request_context import reset_request_id, sanitize_request_id, set_request_id

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _begin(self, request: HttpRequest) -> tuple[str, object]:
        # Read META, not request.headers: the latter is cached on first use, and django-structlog
        # (next in the chain) must see the sanitised value we write back here.
        request_id = sanitize_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.META["HTTP_X_REQUEST_ID"] = request_id
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return request_id, set_request_id(request_id)

    def _end(self, response: HttpResponse, request_id: str, token: object) -> HttpResponse:
        response[HEADER] = request_id
        reset_request_id(token)
        structlog.contextvars.unbind_contextvars("request_id")
        return response

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        request_id, token = self._begin(request)
        try:
            response = self.get_response(request)
        except BaseException:
            reset_request_id(token)
            raise
        return self._end(response, request_id, token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        request_id, token = self._begin(request)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
        except BaseException:
            reset_request_id(token)
            raise
        return self._end(response, request_id, token)
