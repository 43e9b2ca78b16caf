"""The error answers of every operation, documented once (issue 14): a drf-spectacular
postprocessing hook adds 400/401/403/404/409/429 (and 413/415 where there is a body, 503 everywhere)
with the one error shape to every operation that does not document its own."""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "ApiError"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error shape of the API (README: Errors). Some codes add fields, e.g. `retry_after`.",
    "properties": {
        "type": {"type": "string", "enum": ["validation_error", "client_error", "server_error"]},
        "code": {"type": "string", "description": "Stable, for programs."},
        "detail": {"type": "string", "description": "For people."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                    "attr": {"type": "string", "nullable": True},
                },
                "required": ["code", "detail", "attr"],
            },
        },
        "request_id": {"type": "string", "nullable": True},
    },
    "required": ["type", "code", "detail", "errors", "request_id"],
}

ERROR_RESPONSES = {
    "400": "Invalid request: `validation_failed` (see `errors`), `parse_error`, `json_too_deep`, "
    "`too_many_fields`, `cursor_invalid`, or a rule's own code.",
    "401": "Not signed in, or the token is invalid, expired or revoked.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Not found, or not visible to the caller.",
    "409": "Conflicts with the current state: an invalid transition, existing data, or a busy record.",
    "429": "Too many requests, or locked: wait `Retry-After` seconds.",
    "503": "A service the request needs is unavailable (`database_busy`): retry shortly.",
}
BODY_TOO_LARGE = "The request body is over the limit (`payload_too_large`)."
UNSUPPORTED_MEDIA = "The body is not in a media type the operation reads (`unsupported_media_type`)."
IDEMPOTENCY_KEY_REUSED = (
    "The `Idempotency-Key` was already used for a different request (`idempotency_key_reused`): use a new key."
)
UNSAFE = {"put", "post", "delete", "patch"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}},
    }


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(status, _error_response(description))
            if "requestBody" in operation:
                responses.setdefault("413", _error_response(BODY_TOO_LARGE))
                responses.setdefault("415", _error_response(UNSUPPORTED_MEDIA))
            if method in UNSAFE:  # every unsafe request may carry an Idempotency-Key (core.idempotency)
                responses.setdefault("422", _error_response(IDEMPOTENCY_KEY_REUSED))
    return result
