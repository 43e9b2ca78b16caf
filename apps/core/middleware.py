"""X-Request-ID: accept a sane incoming id or make one, echo it, bind it into every log line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

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


class AdminQueryGuardMiddleware:
    """A NUL character anywhere in a back-office URL's query answers 400. The admin's lists take
    their filters from the query string and PostgreSQL refuses NUL in text, so a crafted
    `?status__exact=%00` was a 500 from the database on any list. (The API's query parameters are
    checked by their serializers; the admin's form fields by Django's own NUL validator.)"""

    sync_capable = True
    async_capable = True
    prefix = "/admin/"

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        if not request.path.startswith(self.prefix):
            return None
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest("A query parameter contains a NUL character.", content_type="text/plain")
        return None

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return self._refusal(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        return self._refusal(request) or await self.get_response(request)  # type: ignore[misc]
