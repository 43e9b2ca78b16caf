"""Lists are cursor-paginated, newest first, with a validated page size that is capped, not refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core.pagination import CappedCursorPagination
from apps.organizations.models import Organization
from apps.organizations.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


class SmallCapPagination(CappedCursorPagination):
    max_page_size = 5


def _request(params: dict[str, str] | None = None) -> Request:
    return Request(factory.get("/api/v1/organizations", params or {}))


def _page(paginator: CappedCursorPagination, params: dict[str, str] | None = None) -> list[str]:
    rows = paginator.paginate_queryset(Organization.objects.all(), _request(params))
    return [organization.code for organization in rows]


def _params_of(link: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


@pytest.fixture
def seven_organizations() -> list[str]:
    """Codes of seven organizations, newest first (the pagination order)."""
    codes = [OrganizationFactory().code for _ in range(7)]
    return list(reversed(codes))


def test_a_page_of_three_returns_the_three_newest_and_a_next_cursor(seven_organizations):
    paginator = CappedCursorPagination()

    codes = _page(paginator, {"page_size": "3"})

    assert codes == seven_organizations[:3]
    assert paginator.get_next_link() is not None
    assert paginator.get_previous_link() is None


def test_following_next_cursors_returns_every_row_once_in_order(seven_organizations):
    paginator = CappedCursorPagination()
    seen = _page(paginator, {"page_size": "3"})
    pages = 1
    next_link = paginator.get_next_link()

    while next_link is not None:
        paginator = CappedCursorPagination()
        seen += _page(paginator, _params_of(next_link))
        next_link = paginator.get_next_link()
        pages += 1

    assert pages == 3
    assert seen == seven_organizations
    assert len(set(seen)) == 7


def test_rows_created_after_the_first_page_do_not_shift_the_next_page(seven_organizations):
    paginator = CappedCursorPagination()
    _page(paginator, {"page_size": "3"})
    next_params = _params_of(paginator.get_next_link())
    OrganizationFactory()

    second = _page(CappedCursorPagination(), next_params)

    assert second == seven_organizations[3:6]


def test_without_a_page_size_the_default_of_50_applies(seven_organizations):
    paginator = CappedCursorPagination()

    codes = _page(paginator)

    assert paginator.page_size == 50
    assert codes == seven_organizations
    assert paginator.get_next_link() is None


def test_a_page_size_above_the_cap_gets_the_cap(seven_organizations):
    paginator = SmallCapPagination()

    codes = _page(paginator, {"page_size": "1000"})

    assert codes == seven_organizations[:5]
    assert paginator.get_next_link() is not None


def test_the_default_cap_is_200():
    paginator = CappedCursorPagination()

    assert paginator.max_page_size == 200
    assert paginator.get_page_size(_request({"page_size": "1000"})) == 200
    assert paginator.get_page_size(_request({"page_size": "200"})) == 200
    assert paginator.get_page_size(_request({"page_size": "7"})) == 7


@pytest.mark.parametrize(
    ("page_size", "message", "code"),
    [
        ("abc", "A whole number is required.", "invalid"),
        ("2.5", "A whole number is required.", "invalid"),
        ("", "A whole number is required.", "invalid"),
        ("0", "Must be at least 1.", "min_value"),
        ("-3", "Must be at least 1.", "min_value"),
    ],
)
def test_a_page_size_that_is_not_a_positive_whole_number_is_refused(page_size, message, code):
    with pytest.raises(ValidationError) as refused:
        CappedCursorPagination().get_page_size(_request({"page_size": page_size}))

    assert refused.value.detail == {"page_size": [message]}
    assert refused.value.get_codes() == {"page_size": [code]}


@pytest.mark.urls("apps.core.tests.urls_for_tests")
@pytest.mark.parametrize(
    ("page_size", "error"),
    [
        ("abc", {"code": "invalid", "detail": "A whole number is required.", "attr": "page_size"}),
        ("0", {"code": "min_value", "detail": "Must be at least 1.", "attr": "page_size"}),
    ],
)
def test_a_list_endpoint_answers_400_validation_failed_for_a_bad_page_size(api_client, page_size, error):
    response = api_client.get("/api/v1/test/organizations", {"page_size": page_size})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["code"] == "validation_failed"
    assert body["errors"] == [error]
    assert body["request_id"] == response["X-Request-ID"]


@pytest.mark.urls("apps.core.tests.urls_for_tests")
def test_a_list_endpoint_pages_with_next_and_previous_links(api_client, seven_organizations):
    first = api_client.get("/api/v1/test/organizations", {"page_size": "4"}).json()
    second = api_client.get(first["next"]).json()

    assert set(first) == {"next", "previous", "results"}
    assert [row["code"] for row in first["results"]] == seven_organizations[:4]
    assert first["previous"] is None
    assert [row["code"] for row in second["results"]] == seven_organizations[4:]
    assert second["next"] is None
    assert second["previous"] is not None


# --- malformed cursors (issue 14, item 5) -------------------------------------------------------------


def _encoded(raw: str) -> str:
    import base64

    return base64.b64encode(raw.encode()).decode()


MALFORMED_CURSORS = [
    "@@@",  # not base64
    "%",
    _encoded("p=not-a-date"),  # a position that is not a created_at
    _encoded("p=2024-13-45T99:99:99"),
    _encoded("p=\x00"),
    _encoded("o=-1&p=2024-01-01"),  # negative offset
    _encoded("o=99999999999999999999999"),
    _encoded("r=2&p=2024-01-01"),
    _encoded("\xff\xfe"),
    "//////////",
]


@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_a_malformed_cursor_is_a_400_cursor_invalid(seven_organizations, cursor):
    from rest_framework.exceptions import APIException

    with pytest.raises(APIException) as refused:
        _page(CappedCursorPagination(), {"cursor": cursor})

    assert refused.value.status_code == 400
    assert refused.value.get_codes() == "cursor_invalid"


@pytest.mark.parametrize("cursor", [_encoded("p=not-a-date"), "@@@"])
def test_a_malformed_cursor_on_a_real_list_answers_in_the_error_shape(authenticate, cursor):
    from apps.accounts.tests.factories import SuperAdminFactory

    client = authenticate(SuperAdminFactory())

    response = client.get("/api/v1/webhooks/endpoints/", {"cursor": cursor})

    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "cursor_invalid"
    assert {"type", "code", "detail", "errors", "request_id"} <= set(body)
