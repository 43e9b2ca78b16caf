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
