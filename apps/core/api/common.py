"""What every app's API modules share: the paging parameters and page schema of cursor lists, one
cursor page of a queryset, and reading a body or query checked by a serializer. (The acting user
is `apps.accounts.requests.request_user`: core may not import accounts' `User`.)"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.formatter import flatten_errors
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import FieldError
from apps.core.pagination import CappedCursorPagination

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of an earlier page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, capped at 200)."),
]


def validated_data(serializer_class: type[serializers.Serializer], data: Any, **options: Any) -> dict[str, Any]:
    """`data` checked by `serializer_class` (400 with every field error at once otherwise)."""
    serializer = serializer_class(data=data, **options)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def checked_data(
    serializer_class: type[serializers.Serializer], data: Any, **options: Any
) -> tuple[dict[str, Any], list[FieldError]]:
    """`data` checked by `serializer_class` without raising: the values of the fields that passed
    and the errors of those that did not (`{"attr", "code", "detail"}`, as the error shape lists
    them). For endpoints whose service checks rules after the types: it gets both, runs its own
    checks on the rest and answers every error at once (core.errors.FieldErrors)."""
    serializer = serializer_class(data=data, **options)
    if serializer.is_valid():
        return dict(serializer.validated_data), []
    errors = [{"attr": e.attr, "code": e.code, "detail": e.detail} for e in flatten_errors(serializer.errors)]
    values: dict[str, Any] = {}
    if isinstance(serializer.errors, dict) and isinstance(data, dict):
        for name, field in serializer.fields.items():
            if name in serializer.errors or field.read_only:
                continue
            primitive = field.get_value(data)
            try:
                if primitive is empty and serializer.partial:
                    continue
                value = field.run_validation(primitive)
            except (SkipField, serializers.ValidationError):
                continue
            values[str(field.source)] = value
    return values, errors


def cursor_page(
    request: Request,
    queryset: Any,
    output: type[serializers.Serializer],
    *,
    view: Any = None,
    pagination: type[CappedCursorPagination] = CappedCursorPagination,
) -> Response:
    """One page of `queryset` in the order of `pagination` (newest first by default), each row
    shaped by `output`."""
    paginator = pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


# A cursor page; each list declares its own subclass with `results` (no docstring here: the
# schema would give it to every page).
class PageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
