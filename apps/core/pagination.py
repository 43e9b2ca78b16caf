"""Cursor pagination with a validated, capped page size, and strict cursors.

A cursor is ours (base64 of `o=&r=&p=`); anything else a client sends as one (not base64,
unknown keys, a position its list's ordering cannot read, a date out of range) is a 400
`cursor_invalid`, never a 500 from the ORM or a silent first page (issue 14).
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Any
from urllib import parse

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

CURSOR_KEYS = {"o", "r", "p"}


class CursorInvalid(APIException):
    status_code = 400
    default_code = "cursor_invalid"
    default_detail = "The cursor is not one this list handed out; start again without it."


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

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            if not tokens.keys() <= CURSOR_KEYS or any(len(values) != 1 for values in tokens.values()):
                raise ValueError("unknown or repeated cursor keys")
            offset = int(tokens.get("o", ["0"])[0])
            reverse = tokens.get("r", ["0"])[0]
            if not 0 <= offset <= self.offset_cutoff or reverse not in ("0", "1"):
                raise ValueError("bad offset or direction")
            position = tokens.get("p", [None])[0]
            if position is not None and "\x00" in position:
                raise ValueError("NUL in position")
        except (TypeError, ValueError, UnicodeError, binascii.Error):
            raise CursorInvalid() from None
        return Cursor(offset=offset, reverse=reverse == "1", position=position)  # type: ignore[arg-type]

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if self.cursor_query_param not in request.query_params:
            return super().paginate_queryset(queryset, request, view)
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError, DataError):
            # The position is not a value of the list's first ordering field (or the database
            # cannot hold it): the cursor did not come from this list.
            raise CursorInvalid() from None
