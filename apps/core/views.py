"""Django-level 404/500 handlers: JSON in the API error shape under /api/, HTML elsewhere."""

from __future__ import annotations

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from apps.core.exception_handler import database_busy, error_body, is_pool_timeout


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(status_code=404, code="not_found", detail="Not found."), status=404)
    return defaults.page_not_found(request, exception or Exception("not found"))


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is at hand: the pool running
    # dry in a middleware (before DRF's handler) is a 503 too, not a 500.
    if is_pool_timeout(sys.exc_info()[1]):
        busy = database_busy()
        response = JsonResponse(error_body(status_code=busy.status, code=busy.code, detail=busy.detail), status=503)
        response["Retry-After"] = busy.headers["Retry-After"]
        return response
    if _is_api(request):
        body = error_body(
            status_code=500, code="server_error", detail="Server error. Quote the request id when reporting it."
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
