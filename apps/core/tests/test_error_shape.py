"""Every API error has one shape, `{"type", "code", "detail", "errors", "request_id"}`, and the
request id in the body is the one in the `X-Request-ID` header (ARCHITECTURE section 6)."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connections, transaction
from django.test import Client
from rest_framework.test import APIClient

from apps.core.exception_handler import VALIDATION_DETAIL
from apps.core.tests.urls_for_tests import SECRET_CRASH_TEXT
from apps.organizations.models import Organization
from apps.organizations.tests.factories import OrganizationFactory

ERROR_KEYS = {"type", "code", "detail", "errors", "request_id"}
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
SERVER_ERROR_DETAIL = "Server error. Quote the request id when reporting it."

use_test_urls = pytest.mark.urls("apps.core.tests.urls_for_tests")


def _error(response, *, type_: str, code: str, detail: str, errors: list[dict] | None = None) -> dict:
    """The body the API must answer with, given the request id it put in the header."""
    return {
        "type": type_,
        "code": code,
        "detail": detail,
        "errors": errors if errors is not None else [{"code": code, "detail": detail, "attr": None}],
        "request_id": response["X-Request-ID"],
    }


# --- errors raised inside API views ---------------------------------------------------------------


@use_test_urls
def test_domain_error_renders_its_code_status_and_detail(api_client):
    response = api_client.get("/api/v1/test/domain-error")

    assert response.status_code == 409
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(
        response,
        type_="client_error",
        code="thing_busy",
        detail="Bale lot 7 is being weighed; try again in a minute.",
    )
    assert HEX_ID.match(body["request_id"])


@use_test_urls
def test_domain_error_for_a_field_lists_the_field_in_errors(api_client):
    response = api_client.get("/api/v1/test/field-error")

    assert response.status_code == 422
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(
        response,
        type_="client_error",
        code="quantity_too_large",
        detail="Expected at most 1000 kg, got 1200 kg.",
        errors=[
            {"code": "quantity_too_large", "detail": "Expected at most 1000 kg, got 1200 kg.", "attr": "quantity_kg"}
        ],
    )


@use_test_urls
@pytest.mark.django_db
def test_integrity_error_is_a_409_integrity_conflict_and_writes_nothing(api_client):
    response = api_client.post("/api/v1/test/integrity-error")

    assert response.status_code == 409
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(
        response,
        type_="client_error",
        code="integrity_conflict",
        detail="The change conflicts with existing data.",
    )
    assert Organization.objects.filter(code="DUP").count() == 0


@use_test_urls
@pytest.mark.django_db(transaction=True)
def test_lock_timeout_on_a_row_held_by_another_transaction_is_a_409_lock_contention(api_client):
    organization = OrganizationFactory()
    locked, release = threading.Event(), threading.Event()
    holder_errors: list[BaseException] = []

    def hold_row_lock() -> None:
        try:
            with transaction.atomic():
                Organization.objects.select_for_update().get(pk=organization.pk)
                locked.set()
                release.wait(timeout=10)
        except BaseException as exc:
            holder_errors.append(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_row_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        response = api_client.post(f"/api/v1/test/locked/{organization.pk}")
    finally:
        release.set()
        holder.join(timeout=10)

    assert holder_errors == []
    assert response.status_code == 409
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(
        response,
        type_="client_error",
        code="lock_contention",
        detail="The record is busy; retry the request.",
    )


@use_test_urls
def test_unhandled_exception_is_a_500_server_error_without_internals():
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/v1/test/crash")

    assert response.status_code == 500
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(response, type_="server_error", code="server_error", detail=SERVER_ERROR_DETAIL)
    text = response.content.decode()
    assert SECRET_CRASH_TEXT not in text
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text


@use_test_urls
def test_drf_not_found_is_a_404_not_found(api_client):
    response = api_client.get("/api/v1/test/drf-not-found")

    assert response.status_code == 404
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(response, type_="client_error", code="not_found", detail="No such bale lot.")


@use_test_urls
def test_serializer_validation_error_is_a_400_validation_failed_listing_each_field(api_client):
    response = api_client.post("/api/v1/test/serializer-error", {"lot_number": "", "quantity_kg": "-5"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(
        response,
        type_="validation_error",
        code="validation_failed",
        detail=VALIDATION_DETAIL,
        errors=[
            {"code": "blank", "detail": "This field may not be blank.", "attr": "lot_number"},
            {"code": "min_value", "detail": "Ensure this value is greater than or equal to 0.", "attr": "quantity_kg"},
        ],
    )


@use_test_urls
def test_missing_required_fields_are_each_reported_as_required(api_client):
    response = api_client.post("/api/v1/test/serializer-error", {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "required", "detail": "This field is required.", "attr": "lot_number"},
        {"code": "required", "detail": "This field is required.", "attr": "quantity_kg"},
    ]


# --- errors Django raises before any API view runs --------------------------------------------------


def test_unknown_api_path_is_a_json_404_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-endpoint")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(response, type_="client_error", code="not_found", detail="Not found.")
    assert HEX_ID.match(body["request_id"])


@use_test_urls
def test_an_exception_outside_drf_under_api_is_a_json_500_in_the_error_shape():
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/test/plain-crash")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body == _error(response, type_="server_error", code="server_error", detail=SERVER_ERROR_DETAIL)
    assert "hunter2" not in response.content.decode()


@use_test_urls
def test_an_exception_outside_the_api_is_an_html_500():
    client = Client(raise_request_exception=False)

    response = client.get("/test/plain-crash")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Server Error (500)" in response.content
    assert b"hunter2" not in response.content


def test_unknown_non_api_path_is_an_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not Found" in response.content
    assert not response.content.lstrip().startswith(b"{")
    assert HEX_ID.match(response["X-Request-ID"])


# --- the request id -----------------------------------------------------------------------------------


def test_a_sane_incoming_request_id_is_echoed_in_header_and_error_body(client):
    response = client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="lb-2025.11.24:req-0042")

    assert response["X-Request-ID"] == "lb-2025.11.24:req-0042"
    assert response.json()["request_id"] == "lb-2025.11.24:req-0042"


def test_an_incoming_request_id_of_exactly_128_characters_is_echoed(client):
    incoming = "r" * 128

    response = client.get("/api/v1/health/live", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("has spaces in it", id="spaces"),
        pytest.param("r" * 129, id="129-characters"),
        pytest.param("short", id="under-8-characters"),
        pytest.param("evil\r\nSet-Cookie:x=1", id="header-injection"),
    ],
)
def test_an_unsafe_incoming_request_id_is_replaced_with_a_fresh_32_hex_id(client, incoming):
    response = client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert HEX_ID.match(response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_a_request_without_an_id_gets_a_fresh_one_per_request(client):
    first = client.get("/api/v1/health/live")
    second = client.get("/api/v1/health/live")

    assert HEX_ID.match(first["X-Request-ID"])
    assert HEX_ID.match(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.asyncio
async def test_the_request_id_is_echoed_under_asgi_too(async_client):
    response = await async_client.get("/api/v1/no-such-endpoint", headers={"X-Request-ID": "asgi-req-0001"})

    assert response.status_code == 404
    assert response["X-Request-ID"] == "asgi-req-0001"
    assert response.json()["request_id"] == "asgi-req-0001"


@pytest.mark.asyncio
async def test_an_unsafe_request_id_is_replaced_under_asgi_too(async_client):
    response = await async_client.get("/api/v1/no-such-endpoint", headers={"X-Request-ID": "has spaces"})

    assert HEX_ID.match(response["X-Request-ID"])
    assert response.json()["request_id"] == response["X-Request-ID"]
