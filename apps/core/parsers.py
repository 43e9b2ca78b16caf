"""orjson parsing with DRF's ParseError on malformed bodies (a 400 with code `parse_error`).

Nesting is bounded (issue 14): a body nested deeper than MAX_JSON_DEPTH is a 400 `json_too_deep`
before any serializer, validator or logger recurses into it (Python's recursion limit turned a
thousand nested lists into a 500 anywhere, and a few hundred in quality specifications).
"""

from __future__ import annotations

from typing import IO, Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

# Our deepest legitimate document is a few levels (quality specifications: field -> range).
MAX_JSON_DEPTH = 32


class JsonTooDeep(ValueError):
    pass


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest more than `limit` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads_bounded(raw: bytes | str) -> Any:
    """orjson.loads, refusing documents nested deeper than MAX_JSON_DEPTH (JsonTooDeep);
    malformed JSON raises orjson.JSONDecodeError (a ValueError) as usual."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc):  # orjson's own limit (1024)
            raise JsonTooDeep(str(exc)) from exc
        raise
    if json_depth_exceeds(value):
        raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


class OrjsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return loads_bounded(stream.read())
        except JsonTooDeep as exc:
            raise ParseError(f"JSON may nest at most {MAX_JSON_DEPTH} levels.", code="json_too_deep") from exc
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
