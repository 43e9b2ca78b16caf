"""Hostile request shapes answer 4xx in the error shape, never 500 (issue 14, items 4-7)."""

import io
import json

import pytest
from rest_framework.exceptions import ParseError

from apps.core.parsers import MAX_JSON_DEPTH, OrjsonParser

LOGIN = "/api/v1/auth/token"
ERROR_KEYS = {"type", "code", "detail", "errors", "request_id"}

pytestmark = pytest.mark.django_db


def _nested(depth: int, leaf: str = "1") -> bytes:
    return ("[" * depth + leaf + "]" * depth).encode()


def _assert_error(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) >= ERROR_KEYS
    assert body["code"] == code
    return body


# --- item 4: JSON depth ---------------------------------------------------------------------------


def test_json_nested_to_the_limit_parses_and_one_level_deeper_is_refused():
    assert OrjsonParser().parse(io.BytesIO(_nested(MAX_JSON_DEPTH))) == json.loads(_nested(MAX_JSON_DEPTH))

    with pytest.raises(ParseError) as refused:
        OrjsonParser().parse(io.BytesIO(_nested(MAX_JSON_DEPTH + 1)))

    assert refused.value.get_codes() == "json_too_deep"


def test_objects_count_towards_the_depth_as_arrays_do():
    deep = b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1)

    with pytest.raises(ParseError):
        OrjsonParser().parse(io.BytesIO(deep))


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 5000, 100_000])
def test_deep_json_to_an_unauthenticated_endpoint_is_a_400_json_too_deep(api_client, depth):
    body = b'{"email": "a@example.com", "password": ' + _nested(depth, '"x"') + b"}"

    response = api_client.generic("POST", LOGIN, body, content_type="application/json")

    _assert_error(response, 400, "json_too_deep")


# --- item 6: too many query parameters or form fields ----------------------------------------------


def test_more_than_a_thousand_query_parameters_are_a_400_even_unauthenticated(api_client):
    query = "&".join(f"p{i}=1" for i in range(1001))

    response = api_client.get(f"/api/v1/health/live?{query}")

    _assert_error(response, 400, "too_many_fields")


def test_more_than_a_thousand_query_parameters_on_an_authenticated_list_are_a_400(authenticate):
    from apps.accounts.tests.factories import SuperAdminFactory

    client = authenticate(SuperAdminFactory())
    query = "&".join(f"p{i}=1" for i in range(1001))

    _assert_error(client.get(f"/api/v1/webhooks/endpoints/?{query}"), 400, "too_many_fields")


def test_more_than_a_thousand_form_fields_to_the_login_are_a_400(api_client):
    body = "&".join(f"f{i}=1" for i in range(1001))

    response = api_client.generic("POST", LOGIN, body, content_type="application/x-www-form-urlencoded")

    _assert_error(response, 400, "too_many_fields")


def test_a_thousand_query_parameters_are_still_served(api_client):
    query = "&".join(f"p{i}=1" for i in range(999))

    assert api_client.get(f"/api/v1/health/live?{query}").status_code == 200


def test_djangos_own_400_under_the_api_is_in_the_error_shape():
    from django.core.exceptions import TooManyFieldsSent
    from django.test import RequestFactory

    from apps.core.views import bad_request

    response = bad_request(RequestFactory().post("/api/v1/anything"), TooManyFieldsSent("too many"))

    body = json.loads(response.content)
    assert response.status_code == 400
    assert set(body) >= ERROR_KEYS
    assert body["code"] == "too_many_fields"


# --- item 7: one size limit for every API body, enforced before reading ------------------------------

BIG = 3 * 1024 * 1024  # over the 2.5 MB default


def _assert_too_large_asgi(messages: list[dict]) -> dict:
    start, body = messages[0], messages[1]
    assert start["type"] == "http.response.start"
    assert start["status"] == 413
    assert (b"content-type", b"application/json") in start["headers"]
    parsed = json.loads(body["body"])
    assert set(parsed) >= ERROR_KEYS
    assert parsed["code"] == "payload_too_large"
    return parsed


def test_a_json_body_over_the_limit_is_a_413_without_reaching_the_view(api_client, settings):
    body = b'{"email": "a@example.com", "password": "' + b"x" * BIG + b'"}'

    response = api_client.generic("POST", LOGIN, body, content_type="application/json")

    body = _assert_error(response, 413, "payload_too_large")
    assert body["request_id"] == response["X-Request-ID"]


def test_a_body_just_under_the_limit_is_read(api_client, settings):
    settings.API_BODY_MAX_BYTES = 4096
    body = b'{"email": "a@example.com", "password": "' + b"x" * 3000 + b'"}'

    response = api_client.generic("POST", LOGIN, body, content_type="application/json")

    assert response.status_code == 400  # the serializer's answer (password too long), not 413
    assert response.json()["code"] == "validation_failed"


async def _asgi_post(path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> list[dict]:
    """Drive the real ASGI application; stop sending as soon as it answers."""
    import asyncio
    from importlib import import_module

    # By name: the import-linter would follow a static import of the project's ASGI module
    # (routing -> realtime -> events) from core's tests.
    application = import_module("cotton_erp.asgi").application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    inbox: asyncio.Queue = asyncio.Queue()
    for i, chunk in enumerate(chunks):
        inbox.put_nowait({"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1})
    sent: list[dict] = []
    read = 0

    async def receive() -> dict:
        nonlocal read
        message = await inbox.get()
        read += 1
        return message

    async def send(message: dict) -> None:
        sent.append(message)

    await asyncio.wait_for(application(scope, receive, send), timeout=20)
    sent.append({"chunks_read": read})
    return sent


@pytest.mark.asyncio
async def test_asgi_refuses_a_declared_100_mb_body_before_reading_any_of_it():
    # The client announces 100 MB and has sent one small chunk; nothing more will ever come.
    sent = await _asgi_post(LOGIN, [b"{"], [(b"content-length", str(100 * 1024 * 1024).encode())])

    _assert_too_large_asgi(sent)
    assert sent[-1] == {"chunks_read": 0}


@pytest.mark.asyncio
async def test_asgi_stops_reading_a_chunked_body_at_the_limit():
    chunks = [b"x" * (1024 * 1024)] * 10  # 10 MB, no Content-Length

    sent = await _asgi_post(LOGIN, chunks, [])

    _assert_too_large_asgi(sent)
    assert sent[-1]["chunks_read"] == 3  # 2.5 MB is passed within the third megabyte


def test_kyc_document_uploads_have_their_own_larger_limit():
    from django.conf import settings

    from apps.core.body_limit import body_limit_for

    assert body_limit_for(LOGIN) == settings.API_BODY_MAX_BYTES == 2_621_440
    upload = "/api/v1/partners/applications/7d3c2f4e-1b2a-4c5d-8e9f-000000000042/documents/"
    assert body_limit_for(upload) > settings.PARTNERS_DOCUMENT_MAX_BYTES
    assert body_limit_for("/api/v1/partners/7d3c2f4e-1b2a-4c5d-8e9f-000000000042/documents/") == body_limit_for(upload)
    assert body_limit_for("/admin/login/") is None  # Django's own limits apply outside the API
