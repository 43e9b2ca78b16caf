"""Cursor pagination with a validated, capped page size."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class CappedCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = ("-created_at", "-id")

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": ["A whole number is required."]}, code="invalid") from None
        if size < 1:
            raise ValidationError({"page_size": ["Must be at least 1."]}, code="min_value")
        # Asking for more than the cap is not an error: the caller gets the cap.
        return min(size, self.max_page_size)
