"""orjson rendering: fast, and Decimal/UUID/datetime safe (Decimals as exact strings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # never a float: money and quantities stay exact
    if hasattr(value, "__str__") and type(value).__name__ in {"ErrorDetail", "__proxy__"}:
        return str(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
