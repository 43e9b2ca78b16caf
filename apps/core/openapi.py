"""The API docs, completed once for every operation by drf-spectacular postprocessing hooks.

- `add_error_responses` (issue 14): 400/401/403/404/409/429 (413/415 where there is a body, 422
  on unsafe methods, 503 everywhere) with the one error shape, where an operation does not
  document its own.
- `add_summaries_and_examples` (issue 17): a summary on every operation (its own, else the table
  in `openapi_summaries`), request examples taken from the README for the main operations, sane
  examples for decimal fields (Swagger UI made `"003437."` up from their pattern) and for JSON
  object fields (it showed `"string"`), and bearer JWT listed before the admin's session cookie.
"""

from __future__ import annotations

import re
from typing import Any

from apps.core.openapi_summaries import SUMMARIES

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
    "503": "A service the request needs is unavailable (`database_busy`, `redis_busy`): retry shortly.",
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


# --- summaries, examples, security order (issue 17) -----------------------------------------------

JWT_SCHEME = "jwtAuth"

# Request bodies as the README sends them (README: Signing in, Trade desk, Negotiations and trades).
REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "auth_token_create": {"email": "admin@cotton-erp.test", "password": "CottonDemo1"},
    "auth_otp_request_create": {"mobile": "98000 00001", "organization_code": "SCH"},
    "auth_otp_verify_create": {"mobile": "+919800000001", "code": "123456"},
    "tradedesk_availability_create": {
        "commodity_id": "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f",
        "variety_id": "7a1c9e2d-4b6f-4a8e-8d3c-2b1a0f9e8d7c",
        "quantity": "100",
        "quantity_unit": "BALE",
        "min_order": "25",
        "price": "60000",
        "price_unit": "CANDY",
        "ship_from_branch_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
        "available_until": "2027-01-15T18:00:00+05:30",
        "quality": {"staple_length": "29.5", "micronaire": "4.1", "strength": "30", "trash": "3.0"},
    },
    "tradedesk_requirement_create": {
        "commodity_id": "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f",
        "quantity_unit": "BALE",
        "min_quantity": "50",
        "max_quantity": "200",
        "preferred_quantity": "100",
        "spec": {"staple_length": {"min": "28.5", "preferred": "29.0"}, "micronaire": {"min": "3.8", "max": "4.5"}},
        "price_unit": "CANDY",
        "max_price": "62000",
        "preferred_price": "60000",
        "delivery_locations": [{"location_id": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "radius_km": "50"}],
        "delivery_from": "2026-12-15",
        "delivery_until": "2027-01-30",
        "valid_until": "2027-01-10T18:00:00+05:30",
    },
    "tradedesk_availability_reservation_create": {"quantity_kg": "8500", "reference": "phone order 14"},
    "trades_negotiation_start": {"match_token": "mt_5kQ2x9vB7nR3"},
    "trades_negotiation_offer_make": {
        "price": "59000",
        "price_unit": "CANDY",
        "quantity": "50",
        "quantity_unit": "BALE",
        "delivery_from": "2026-12-15",
        "delivery_until": "2027-01-10",
        "message": "Can lift this month",
    },
    "trades_negotiation_accept": {},
}

# JSON object fields: what a client really sends (by property name), else an empty object.
OBJECT_EXAMPLES: dict[str, Any] = {
    "quality": {"staple_length": "29.5", "micronaire": "4.1", "strength": "30", "trash": "3.0"},
    "quality_conditions": {"micronaire": {"min": "3.8", "max": "4.5"}},
    "spec": {"staple_length": {"min": "28.5", "preferred": "29.0"}, "micronaire": {"min": "3.8", "max": "4.5"}},
    "payload": {"availability_id": "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f", "status": "ACTIVE"},
}
# drf-spectacular's pattern of a DecimalField: ^-?\d{0,<integer digits>}(?:\.\d{0,<places>})?$
_DECIMAL_PATTERN = re.compile(r"\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}")


def decimal_example(schema: dict[str, Any]) -> str:
    """An example that fits the field: 1250.50 for 2 places, 1250.500 for 3, 125.00 when only
    3 integer digits are allowed."""
    match = _DECIMAL_PATTERN.search(str(schema.get("pattern", "")))
    digits, places = (int(match.group(1)), int(match.group(2))) if match else (4, 2)
    whole = "1250"[: max(1, min(4, digits))] if digits else "0"
    return whole if places == 0 else f"{whole}.{'5'.ljust(places, '0')}"


def _complete_property(name: str, schema: dict[str, Any]) -> None:
    if "$ref" in schema or "example" in schema:
        return
    if schema.get("format") == "decimal":
        schema["example"] = decimal_example(schema)
    elif "type" not in schema and not {"oneOf", "anyOf", "allOf"} & schema.keys():  # a JSONField: any value
        schema["type"] = "object"
        schema["additionalProperties"] = {}
        schema["example"] = OBJECT_EXAMPLES.get(name, {})


def _complete_schema(schema: dict[str, Any]) -> None:
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict):
            _complete_property(name, prop)
            if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                _complete_schema(prop["items"])


def _security_jwt_first(operation: dict[str, Any]) -> None:
    security = operation.get("security")
    if isinstance(security, list):
        operation["security"] = sorted(security, key=lambda requirement: JWT_SCHEME not in requirement)


def add_summaries_and_examples(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {})
    schemes = components.get("securitySchemes") or {}
    if JWT_SCHEME in schemes:
        components["securitySchemes"] = {
            JWT_SCHEME: schemes[JWT_SCHEME],
            **{k: v for k, v in schemes.items() if k != JWT_SCHEME},
        }
    for schema in (components.get("schemas") or {}).values():
        if isinstance(schema, dict):
            _complete_schema(schema)
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method not in METHODS:
                continue
            operation_id = operation.get("operationId", "")
            if not operation.get("summary") and operation_id in SUMMARIES:
                operation["summary"] = SUMMARIES[operation_id]
            _security_jwt_first(operation)
            example = REQUEST_EXAMPLES.get(operation_id)
            content = (operation.get("requestBody") or {}).get("content") or {}
            if example is not None and "application/json" in content:
                content["application/json"]["examples"] = {"README": {"summary": "As in the README", "value": example}}
    return result
