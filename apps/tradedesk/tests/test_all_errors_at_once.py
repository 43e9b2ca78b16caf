"""A posting with several bad fields hears of all of them in one answer (issue 17): the API's
type checks and the service's rules are collected, each field once, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from apps.events.models import OutboxEvent
from apps.tradedesk.models import Availability, Requirement
from apps.tradedesk.tests.test_api_availabilities import BASE as AVAILABILITIES
from apps.tradedesk.tests.test_api_availabilities import body as availability_body
from apps.tradedesk.tests.test_api_requirements import URL as REQUIREMENTS
from apps.tradedesk.tests.test_api_requirements import _body as requirement_body

pytestmark = pytest.mark.django_db


def errors(response: Any) -> list[tuple[str, str]]:
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]


def test_a_bad_price_unit_and_quantity_of_an_availability_are_answered_together(seller, cotton, authenticate):
    payload = {**availability_body(cotton), "price": "abc", "quantity_unit": "TONNE", "quantity": "-5"}

    response = authenticate(seller.owner).post(AVAILABILITIES, payload, format="json")

    assert response.status_code == 400
    assert (response.json()["type"], response.json()["code"]) == ("validation_error", "validation_failed")
    assert errors(response) == [
        ("price", "invalid"),  # the type check
        ("quantity_unit", "unknown_unit"),  # the service's rules
        ("quantity", "quantity_invalid"),
    ]
    assert Availability.objects.count() == 0
    assert not OutboxEvent.objects.filter(type__startswith="tradedesk.").exists()


def test_several_rule_errors_of_an_availability_keep_the_postings_code(seller, cotton, authenticate):
    payload = {**availability_body(cotton), "price": "-1", "quantity_unit": "TONNE", "quantity": "0"}

    response = authenticate(seller.owner).post(AVAILABILITIES, payload, format="json")

    assert response.status_code == 400
    assert (response.json()["type"], response.json()["code"]) == ("client_error", "availability_invalid")
    assert errors(response) == [
        ("quantity_unit", "unknown_unit"),
        ("quantity", "quantity_invalid"),
        ("price", "price_invalid"),
    ]
    assert Availability.objects.count() == 0


def test_a_field_refused_by_its_type_is_not_also_reported_missing(seller, cotton, authenticate):
    payload = {**availability_body(cotton), "quantity": "lots"}

    response = authenticate(seller.owner).post(AVAILABILITIES, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert errors(response) == [("quantity", "invalid")]


def test_a_requirements_bad_prices_unit_and_quantities_are_answered_together(buyer, cotton, authenticate):
    payload = {
        **requirement_body(cotton),
        "max_price": "cheap",
        "price_unit": "TONNE",
        "min_quantity": "-1",
        "preferred_quantity": "0",
    }

    response = authenticate(buyer.owner).post(REQUIREMENTS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert errors(response) == [
        ("max_price", "invalid"),
        ("min_quantity", "quantity_invalid"),
        ("preferred_quantity", "quantity_invalid"),
        ("price_unit", "unknown_unit"),
    ]
    assert Requirement.objects.count() == 0


def test_a_single_rule_error_is_answered_as_before(seller, cotton, authenticate):
    response = authenticate(seller.owner).post(
        AVAILABILITIES, {**availability_body(cotton), "quantity": "0"}, format="json"
    )

    assert response.status_code == 400
    assert (response.json()["type"], response.json()["code"]) == ("client_error", "quantity_invalid")
    assert errors(response) == [("quantity", "quantity_invalid")]
