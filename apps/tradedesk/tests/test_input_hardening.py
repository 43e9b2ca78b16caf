"""Data that used to be stored and must be refused (issue 14, item 10): numbers only as JSON
numbers or plain decimal strings ("1_000" was read as 1000 by Decimal), dates within a sane range
of today, and a requirement whose delivery window lies wholly in the past is not published."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commodities.quality import parse_number
from apps.core.errors import DomainError
from apps.events.models import OutboxEvent
from apps.tradedesk.models import Requirement
from apps.tradedesk.services import requirements as services
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

NOT_PLAIN = ["1_000", "1e3", "NaN", "Infinity", "-inf", "0x10", "١٢", "1.2.3", "", " ", "+", "."]


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_quality_values_are_plain_decimals_only(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(("text", "value"), [("1000", "1000"), ("-12.50", "-12.50"), (" 3.8 ", "3.8"), (".5", "0.5")])
def test_plain_decimal_strings_are_read_exactly(text, value):
    assert parse_number(text) == Decimal(value)


def _refusal(buyer, cotton, **overrides) -> DomainError:
    events_before = OutboxEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        services.requirement_create(
            actor=buyer.owner, partner_id=buyer.pk, fields=factories.requirement_fields(cotton, **overrides)
        )
    assert Requirement.objects.count() == 0
    assert OutboxEvent.objects.count() == events_before
    return refused.value


@pytest.mark.parametrize("quantity", ["1_000", "1e3", "NaN", ["100"], {"v": 1}])
def test_a_quantity_that_is_not_a_plain_decimal_is_refused(buyer, cotton, quantity):
    error = _refusal(buyer, cotton, max_quantity=quantity)

    assert [(e["attr"], e["code"]) for e in error.errors] == [("max_quantity", "not_a_number")]


def test_a_quality_bound_written_with_underscores_is_refused(buyer, cotton):
    error = _refusal(buyer, cotton, spec={"micronaire": {"min": "3_8", "max": "4.5"}})

    assert error.code != "server_error"
    assert Requirement.objects.count() == 0


@pytest.mark.parametrize("days", [-400, 800, 365 * 20])
def test_a_delivery_date_far_from_today_is_refused(buyer, cotton, days):
    today = timezone.localdate()
    far = today + timedelta(days=days)
    window = {"delivery_from": min(far, today), "delivery_until": max(far, today)}

    error = _refusal(buyer, cotton, **window)

    assert "date_out_of_range" in [e["code"] for e in error.errors] + [error.code]


def test_a_validity_far_in_the_future_is_refused(buyer, cotton):
    error = _refusal(buyer, cotton, valid_until=timezone.now() + timedelta(days=5000))

    assert "date_out_of_range" in [e["code"] for e in error.errors] + [error.code]


def test_a_requirement_whose_delivery_window_has_passed_is_not_published(buyer, cotton, financial_year):
    requirement = services.requirement_create(
        actor=buyer.owner, partner_id=buyer.pk, fields=factories.requirement_fields(cotton)
    )
    today = timezone.localdate()
    Requirement.objects.filter(pk=requirement.pk).update(
        delivery_from=today - timedelta(days=20), delivery_until=today - timedelta(days=1)
    )

    with pytest.raises(DomainError) as refused:
        services.requirement_publish(actor=buyer.owner, requirement_id=requirement.pk)

    assert (refused.value.code, refused.value.errors[0]["attr"]) == ("window_passed", "delivery_until")
    requirement.refresh_from_db()
    assert (requirement.status, requirement.number) == ("DRAFT", "")


def test_an_api_decimal_field_refuses_underscores_and_keeps_json_numbers():
    from rest_framework import serializers

    field = serializers.DecimalField(max_digits=10, decimal_places=3)

    with pytest.raises(serializers.ValidationError):
        field.to_internal_value("1_000")
    assert field.to_internal_value("1000.5") == Decimal("1000.5")
    assert field.to_internal_value(12.5) == Decimal("12.5")
    assert field.to_internal_value(7) == Decimal("7")
