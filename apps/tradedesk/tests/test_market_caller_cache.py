"""The caller resolved once per user (issue 15: apps/core/caller_cache.py, accounts/caller.py,
partners/caller.py): later requests read no user or membership row, and no cached answer
outlives a permission change: for each change, a request succeeds, the change is applied through
its service, and the very next request with the same token is refused or reflects it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import UserFactory
from apps.accounts.users import user_deactivate
from apps.core.redis import get_redis
from apps.partners.caller import caller_partner
from apps.partners.models import PartnerMembership
from apps.partners.services.employees import employee_disable
from apps.partners.services.status import partner_change_status
from apps.partners.tests import factories as partner_factories
from apps.tradedesk.models import Availability
from apps.tradedesk.tests import factories
from apps.tradedesk.tests.test_api_availabilities import body

pytestmark = [pytest.mark.django_db, pytest.mark.caller_cache]

MARKET = "/api/v1/market/availabilities/"


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.fixture
def on_market(seller: Any, buyer: Any, cotton: Any) -> Availability:
    return factories.availability(seller, cotton)


def test_a_second_request_reads_neither_the_user_nor_the_membership(authenticate, buyer, on_market):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.get(MARKET)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(on_market.pk)]
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if 'FROM "accounts_user"' in s or 'FROM "partners_partnermembership"' in s]
    assert len(sql) == 1  # the page itself


def test_logging_out_everywhere_refuses_the_next_request(authenticate, buyer, on_market):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200

    assert client.post("/api/v1/auth/logout", {"all": True}, format="json").status_code == 200

    assert _error(client.get(MARKET)) == (401, "token_revoked")


def test_deactivating_the_user_refuses_the_next_request(authenticate, buyer, on_market, desk_manager):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200

    user_deactivate(user_id=buyer.owner.pk, actor=desk_manager, reason="left the company")

    assert _error(client.get(MARKET)) == (401, "user_inactive")


def test_disabling_a_member_refuses_its_next_request(authenticate, buyer, on_market):
    trader = partner_factories.member(buyer, "TRADER")
    client = authenticate(trader)
    assert client.get(MARKET).status_code == 200

    employee_disable(actor=buyer.owner, partner_id=buyer.pk, user_id=trader.pk)

    assert _error(client.get(MARKET)) == (401, "user_inactive")


def test_removing_a_membership_closes_the_market_on_the_next_request(authenticate, buyer, on_market):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200

    PartnerMembership.objects.get(user=buyer.owner).delete()

    assert _error(client.get(MARKET)) == (403, "market_closed")


def test_a_membership_made_inactive_closes_the_market_on_the_next_request(authenticate, buyer, on_market):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200

    membership = PartnerMembership.objects.get(user=buyer.owner)
    membership.is_active = False
    membership.disabled_at = membership.updated_at
    membership.save(update_fields=["is_active", "disabled_at", "updated_at"])

    assert _error(client.get(MARKET)) == (403, "market_closed")


def test_moving_the_user_to_another_organization_closes_the_market(authenticate, buyer, on_market, other_organization):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200

    user = User.objects.get(pk=buyer.owner.pk)
    user.organization = other_organization
    user.save(update_fields=["organization", "updated_at"])

    assert _error(client.get(MARKET)) == (403, "market_closed")


def test_suspending_the_partner_refuses_its_next_write_and_is_seen_by_the_cached_caller(
    authenticate, seller, buyer, cotton, on_market, organization
):
    admin = UserFactory(organization=organization)
    admin.groups.add(Group.objects.get(name=Role.ORGANIZATION_ADMIN))
    client = authenticate(seller.owner)
    assert client.post("/api/v1/availabilities/", body(cotton), format="json").status_code == 201
    assert client.get(MARKET).status_code == 200  # the caller is cached now
    assert caller_partner(User.objects.get(pk=seller.owner.pk)).partner_status == "ACTIVE"  # type: ignore[union-attr]
    count = Availability.objects.count()

    partner_change_status(actor=admin, partner_id=seller.pk, status="SUSPENDED", reason="KYC lapsed")

    response = client.post("/api/v1/availabilities/", body(cotton), format="json")
    assert _error(response) == (403, "partner_suspended")
    assert Availability.objects.count() == count
    # Reading the market stays open to a suspended partner (SPEC 7), from the fresh answer.
    assert client.get(MARKET).status_code == 200
    assert caller_partner(User.objects.get(pk=seller.owner.pk)).partner_status == "SUSPENDED"  # type: ignore[union-attr]


def test_a_changed_role_is_seen_on_the_next_resolution(buyer):
    trader = partner_factories.member(buyer, "TRADER")
    assert caller_partner(trader).role == "TRADER"  # type: ignore[union-attr]

    membership = PartnerMembership.objects.get(user=trader)
    membership.role = "VIEWER"
    membership.save(update_fields=["role", "updated_at"])

    assert caller_partner(trader).role == "VIEWER"  # type: ignore[union-attr]


def test_a_redis_that_lost_its_versions_does_not_bring_back_an_old_answer(authenticate, buyer, on_market):
    client = authenticate(buyer.owner)
    assert client.get(MARKET).status_code == 200
    get_redis().flushdb()  # the version the cached answer was read under is gone

    PartnerMembership.objects.filter(user=buyer.owner).update(
        is_active=False, disabled_at=on_market.created_at
    )  # no signal

    # A fresh random version, not the lost one: the answer is read again.
    assert _error(client.get(MARKET)) == (403, "market_closed")
