"""JSON in and out with orjson: money and quantities stay exact strings, malformed bodies are a 400."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail, ParseError

from apps.core.parsers import OrjsonParser
from apps.core.renderers import OrjsonRenderer


def render(data: object) -> bytes:
    return OrjsonRenderer().render(data)


def test_a_decimal_renders_as_its_exact_string_never_a_float():
    assert render({"price": Decimal("60000.10")}) == b'{"price":"60000.10"}'


def test_decimals_keep_trailing_zeros_and_precision_inside_lists_and_dicts():
    data = {"lots": [{"quantity_kg": Decimal("1200.500")}, {"quantity_kg": Decimal("0.001")}]}

    assert json.loads(render(data)) == {"lots": [{"quantity_kg": "1200.500"}, {"quantity_kg": "0.001"}]}


def test_a_uuid_renders_as_its_canonical_string():
    value = uuid.UUID("3f2b1c4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e")

    assert render({"id": value}) == b'{"id":"3f2b1c4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e"}'


def test_datetimes_and_dates_render_as_iso_8601():
    data = {"at": datetime(2025, 11, 24, 10, 30, 5, tzinfo=UTC), "on": date(2025, 11, 24)}

    assert render(data) == b'{"at":"2025-11-24T10:30:05+00:00","on":"2025-11-24"}'


def test_error_details_and_lazy_strings_render_as_text():
    data = {"detail": ErrorDetail("Not found.", code="not_found"), "label": gettext_lazy("Not found.")}

    assert render(data) == b'{"detail":"Not found.","label":"Not found."}'


def test_non_string_keys_render_as_strings():
    assert render({1: "one"}) == b'{"1":"one"}'


def test_no_data_renders_an_empty_body():
    assert render(None) == b""


def test_an_unknown_type_is_refused_rather_than_guessed():
    with pytest.raises(TypeError):
        render({"value": object()})


def test_the_parser_reads_json():
    assert OrjsonParser().parse(io.BytesIO(b'{"lot": "L-7", "bales": 100}')) == {"lot": "L-7", "bales": 100}


@pytest.mark.parametrize("body", [b"{bad", b"", b"\xff\xfe", b'{"a": 1,}'])
def test_the_parser_turns_malformed_json_into_a_parse_error(body):
    with pytest.raises(ParseError) as refused:
        OrjsonParser().parse(io.BytesIO(body))

    assert refused.value.get_codes() == "parse_error"
    assert str(refused.value.detail).startswith("Malformed JSON: ")


# --- through the API -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_malformed_json_body_is_a_400_parse_error(api_client):
    response = api_client.post("/api/v1/auth/token", data=b"{bad", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"type", "code", "detail", "errors", "request_id"}
    assert body["type"] == "client_error"
    assert body["code"] == "parse_error"
    assert body["detail"].startswith("Malformed JSON: ")
    assert body["errors"] == [{"code": "parse_error", "detail": body["detail"], "attr": None}]
    assert body["request_id"] == response["X-Request-ID"]


@pytest.mark.urls("apps.core.tests.urls_for_tests")
def test_a_decimal_in_a_response_arrives_as_an_exact_string(api_client):
    response = api_client.post(
        "/api/v1/test/serializer-error", {"lot_number": "L-7", "quantity_kg": "1200.5"}, format="json"
    )

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"lot_number":"L-7","quantity_kg":"1200.500"}'
