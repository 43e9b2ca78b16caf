"""Complete, self-hosted API docs (issue 17): every operation has a summary and documents its 4xx
answers with the error shape, the main ones carry the README's request examples, generated
examples make sense, JWT comes first, and /api/docs/ needs nothing from another host."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.core.openapi import REQUEST_EXAMPLES, decimal_example
from apps.core.openapi_summaries import SUMMARIES

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def schema() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (f"{method.upper()} {path}", method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in METHODS
    ]


def test_every_operation_has_a_summary(schema):
    missing = [name for name, _, operation in operations(schema) if not operation.get("summary", "").strip()]

    assert missing == []


def test_every_operation_documents_4xx_answers_with_the_error_shape(schema):
    error_ref = "#/components/schemas/ApiError"
    undocumented = [
        name
        for name, _, operation in operations(schema)
        if not any(
            status.startswith("4")
            and response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == error_ref
            for status, response in operation["responses"].items()
        )
    ]

    assert undocumented == []


def test_the_summary_table_names_only_operations_that_exist(schema):
    ids = {operation["operationId"] for _, _, operation in operations(schema)}

    assert set(SUMMARIES) - ids == set()
    assert set(REQUEST_EXAMPLES) - ids == set()


@pytest.mark.parametrize(
    ("operation_id", "keys"),
    [
        ("auth_token_create", {"email", "password"}),
        ("tradedesk_availability_create", {"quantity", "quantity_unit", "price", "price_unit", "quality"}),
        ("tradedesk_requirement_create", {"min_quantity", "max_quantity", "max_price", "delivery_locations"}),
        ("tradedesk_availability_reservation_create", {"quantity_kg"}),
        ("trades_negotiation_offer_make", {"price", "price_unit", "quantity", "quantity_unit", "delivery_from"}),
        ("trades_negotiation_accept", set()),
    ],
)
def test_the_main_operations_carry_the_readmes_request_example(schema, operation_id, keys):
    (operation,) = [op for _, _, op in operations(schema) if op["operationId"] == operation_id]
    example = operation["requestBody"]["content"]["application/json"]["examples"]["README"]["value"]

    assert keys <= set(example)
    assert example == REQUEST_EXAMPLES[operation_id]


def test_decimal_and_json_object_fields_have_sane_examples(schema):
    bad = []
    for component, body in schema["components"]["schemas"].items():
        for name, prop in (body.get("properties") or {}).items():
            if prop.get("format") == "decimal":
                example = prop.get("example", "")
                if not re.fullmatch(prop.get("pattern", ".*"), example) or not re.fullmatch(r"\d+(\.\d+)?", example):
                    bad.append(f"{component}.{name}: {example!r}")
            if "type" not in prop and not {"$ref", "oneOf", "anyOf", "allOf"} & prop.keys():
                bad.append(f"{component}.{name}: untyped")
    assert bad == []
    quality = schema["components"]["schemas"]["AvailabilityCreateInputRequest"]["properties"]["quality"]
    assert quality["type"] == "object"
    assert quality["example"]["micronaire"] == "4.1"


def test_decimal_examples_fit_their_digits():
    assert decimal_example({"pattern": r"^-?\d{0,13}(?:\.\d{0,3})?$"}) == "1250.500"
    assert decimal_example({"pattern": r"^-?\d{0,3}(?:\.\d{0,2})?$"}) == "125.50"
    assert decimal_example({"pattern": r"^-?\d{0,16}$"}) == "1250.50"  # no decimals part: the default


def test_jwt_is_the_first_security_scheme_everywhere(schema):
    assert next(iter(schema["components"]["securitySchemes"])) == "jwtAuth"
    firsts = {next(iter(op["security"][0]), "") for _, _, op in operations(schema) if op.get("security")}
    assert firsts == {"jwtAuth", ""}  # "": sign-in and health, open to anonymous callers


def test_the_docs_page_loads_nothing_from_another_host(client):
    html = client.get("/api/docs/").content.decode()

    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", html)
    assert external == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
