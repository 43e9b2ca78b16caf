"""Django-level 404/500 handlers: JSON in the API error shape under /api/, HTML elsewhere."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from apps.core.exception_handler import error_body


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(status_code=404, code="not_found", detail="Not found."), status=404)
    return defaults.page_not_found(request, exception or Exception("not found"))


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        body = error_body(
            status_code=500, code="server_error", detail="Server error. Quote the request id when reporting it."
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
