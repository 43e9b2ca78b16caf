"""Django-level 404/500 handlers: JSON in the API error shape under /api/, HTML elsewhere."""

from __future__ import annotations

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from apps.core.exception_handler import (
    database_busy,
    error_body,
    is_pool_timeout,
    is_redis_unavailable,
    redis_busy,
    refusal_for_suspicious,
)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(status_code=404, code="not_found", detail="Not found."), status=404)
    return defaults.page_not_found(request, exception or Exception("not found"))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (a SuspiciousOperation outside DRF, e.g. a middleware reading the form)."""
    if _is_api(request):
        refusal = refusal_for_suspicious(exception) if exception is not None else None
        code, detail, status = "bad_request", "The request was refused.", 400
        if refusal is not None:
            code, detail, status = refusal.code, refusal.detail, refusal.status
        return JsonResponse(error_body(status_code=status, code=code, detail=detail), status=status)
    return defaults.bad_request(request, exception or Exception("bad request"))


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is at hand: the pool running
    # dry in a middleware (before DRF's handler) is a 503 too, not a 500.
    exc = sys.exc_info()[1]
    if is_pool_timeout(exc) or is_redis_unavailable(exc):
        busy = database_busy() if is_pool_timeout(exc) else redis_busy()
        response = JsonResponse(error_body(status_code=busy.status, code=busy.code, detail=busy.detail), status=503)
        response["Retry-After"] = busy.headers["Retry-After"]
        return response
    if _is_api(request):
        body = error_body(
            status_code=500, code="server_error", detail="Server error. Quote the request id when reporting it."
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
