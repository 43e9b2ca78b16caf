"""The endpoints API: who may do what, the secret shown only once, pagination."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction

from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.ownership import register_partner_resolver
from apps.webhooks.services.deliveries import deliveries_create_for_event, delivery_attempt
from apps.webhooks.tests.factories import WebhookEndpointFactory
from apps.webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhooks/endpoints/"

# name -> (method, path suffix after the endpoint id, body, success status)
DETAIL_OPERATIONS = {
    "retrieve": ("get", "/", None, 200),
    "update": ("patch", "/", {"description": "changed", "is_active": False}, 200),
    "delete": ("delete", "/", None, 204),
    "rotate-secret": ("post", "/rotate-secret", None, 200),
    "test": ("post", "/test", None, 202),
    "deliveries": ("get", "/deliveries/", None, 200),
}


def _grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="webhooks", codename__in=codenames))


def _snapshot(endpoint):
    row = WebhookEndpoint.objects.filter(pk=endpoint.pk).values().first()
    return row, WebhookDelivery.objects.filter(endpoint_id=endpoint.pk).count()


def _call(client, operation, endpoint_id):
    method, suffix, body, _ = DETAIL_OPERATIONS[operation]
    return getattr(client, method)(f"{ENDPOINTS}{endpoint_id}{suffix}", body, format="json")


# --- Permission matrix ---------------------------------------------------------------------


def test_anonymous_callers_get_401_everywhere(api_client, endpoint):
    before = _snapshot(endpoint)

    responses = [api_client.get(ENDPOINTS), api_client.post(ENDPOINTS, {"url": "http://x.test"}, format="json")]
    responses += [_call(api_client, op, endpoint.id) for op in DETAIL_OPERATIONS]

    assert [r.status_code for r in responses] == [401] * (2 + len(DETAIL_OPERATIONS))
    assert _snapshot(endpoint) == before


@pytest.mark.parametrize("operation", list(DETAIL_OPERATIONS))
def test_another_organizations_admin_gets_404_and_changes_nothing(
    authenticate, endpoint, other_organization, operation
):
    from django.contrib.auth.models import Group

    outsider = UserFactory(organization=other_organization)
    outsider.groups.add(Group.objects.get(name="organization_admin"))
    before = _snapshot(endpoint)

    response = _call(authenticate(outsider), operation, endpoint.id)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _snapshot(endpoint) == before


@pytest.mark.parametrize("operation", list(DETAIL_OPERATIONS))
def test_staff_without_the_permission_get_403_and_change_nothing(authenticate, endpoint, organization, operation):
    staff = UserFactory(organization=organization)
    before = _snapshot(endpoint)

    response = _call(authenticate(staff), operation, endpoint.id)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert _snapshot(endpoint) == before


def test_staff_without_the_permission_cannot_list_or_create(authenticate, organization, receiver):
    client = authenticate(UserFactory(organization=organization))

    listed = client.get(ENDPOINTS)
    created = client.post(ENDPOINTS, {"url": receiver.url(), "event_types": ["*"]}, format="json")

    assert (listed.status_code, created.status_code) == (403, 403)
    assert not WebhookEndpoint.objects.exists()


def test_endpoint_permissions_do_not_open_the_deliveries(authenticate, endpoint, organization):
    staff = UserFactory(organization=organization)
    _grant(staff, "view_webhookendpoint")

    assert _call(authenticate(staff), "retrieve", endpoint.id).status_code == 200
    assert _call(authenticate(staff), "deliveries", endpoint.id).status_code == 403


@pytest.mark.parametrize("operation", list(DETAIL_OPERATIONS))
def test_the_organization_admin_may_do_everything(authenticate, org_admin, endpoint, operation):
    response = _call(authenticate(org_admin), operation, endpoint.id)

    assert response.status_code == DETAIL_OPERATIONS[operation][3], response.content


def test_a_platform_admin_sees_every_endpoint_but_owns_none(authenticate, endpoint, other_organization, receiver):
    WebhookEndpointFactory(organization_id=other_organization.id)
    client = authenticate(SuperAdminFactory())

    listed = client.get(ENDPOINTS)
    created = client.post(ENDPOINTS, {"url": receiver.url(), "event_types": ["*"]}, format="json")

    assert len(listed.json()["results"]) == 2
    assert _call(client, "retrieve", endpoint.id).status_code == 200
    assert (created.status_code, created.json()["code"]) == (403, "webhook_owner_required")


def test_a_partner_user_without_a_registered_partner_resolver_owns_nothing(
    authenticate, organization, endpoint, receiver
):
    external = ExternalUserFactory(organization=organization)
    _grant(external, "view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint")
    client = authenticate(external)

    listed = client.get(ENDPOINTS)
    created = client.post(ENDPOINTS, {"url": receiver.url(), "event_types": ["*"]}, format="json")
    retrieved = _call(client, "retrieve", endpoint.id)

    assert (listed.status_code, created.status_code, retrieved.status_code) == (403, 403, 404)
    assert WebhookEndpoint.objects.count() == 1


def test_partner_users_manage_their_partners_endpoints_only(authenticate, organization, endpoint, receiver):
    partner, other_partner = uuid.uuid4(), uuid.uuid4()
    alice, bob = ExternalUserFactory(organization=organization), ExternalUserFactory(organization=organization)
    for user in (alice, bob):
        _grant(user, "view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint")
    register_partner_resolver(lambda user: {alice.pk: partner, bob.pk: str(other_partner)}.get(user.pk))

    created = authenticate(alice).post(
        ENDPOINTS, {"url": receiver.url(), "event_types": ["tradedesk.*"]}, format="json"
    )

    assert created.status_code == 201
    body = created.json()
    assert (body["organization_id"], body["partner_id"]) == (str(organization.id), str(partner))
    assert [e["id"] for e in authenticate(alice).get(ENDPOINTS).json()["results"]] == [body["id"]]
    # Neither the other partner nor the organization's own endpoint is visible to them.
    assert _call(authenticate(bob), "retrieve", body["id"]).status_code == 404
    assert _call(authenticate(alice), "retrieve", endpoint.id).status_code == 404
    assert authenticate(bob).get(ENDPOINTS).json()["results"] == []


def test_organization_staff_do_not_see_partner_endpoints(authenticate, org_admin, organization):
    partner_endpoint = WebhookEndpointFactory(organization_id=organization.id, partner_id=uuid.uuid4())

    assert _call(authenticate(org_admin), "retrieve", partner_endpoint.id).status_code == 404


# --- The secret -----------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_reads_never_show_it(authenticate, org_admin, receiver):
    client = authenticate(org_admin)

    created = client.post(
        ENDPOINTS,
        {"url": receiver.url(), "event_types": ["organizations.*", "tradedesk.*"], "description": "ERP sync"},
        format="json",
    )

    assert created.status_code == 201
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.organization_id, endpoint.partner_id) == (secret, org_admin.organization_id, None)
    assert (endpoint.event_types, endpoint.description, endpoint.created_by_id) == (
        ["organizations.*", "tradedesk.*"],
        "ERP sync",
        org_admin.id,
    )
    reads = [
        client.get(f"{ENDPOINTS}{endpoint.id}/").json(),
        client.get(ENDPOINTS).json()["results"][0],
        client.patch(f"{ENDPOINTS}{endpoint.id}/", {"description": "x"}, format="json").json(),
    ]
    for read in reads:
        assert "secret" not in read
        assert "previous_secret" not in read
        assert secret not in str(read)


def test_rotate_shows_the_new_secret_once(authenticate, org_admin, endpoint):
    old = endpoint.secret

    response = authenticate(org_admin).post(f"{ENDPOINTS}{endpoint.id}/rotate-secret")

    assert response.status_code == 200
    body = response.json()
    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret != old
    assert endpoint.previous_secret == old
    assert body["previous_secret_expires_at"] is not None
    assert "previous_secret" not in body


# --- Operations -----------------------------------------------------------------------------


def test_invalid_event_type_patterns_are_refused(authenticate, org_admin, receiver):
    response = authenticate(org_admin).post(
        ENDPOINTS, {"url": receiver.url(), "event_types": ["Trade Desk!"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "event_types"
    assert response.json()["errors"][0]["code"] == "invalid_event_type"
    assert not WebhookEndpoint.objects.exists()


def test_disabling_an_endpoint_cancels_its_pending_deliveries_and_enabling_clears_the_reason(
    authenticate, org_admin, endpoint, make_delivery
):
    delivery = make_delivery(endpoint)
    client = authenticate(org_admin)

    disabled = client.patch(f"{ENDPOINTS}{endpoint.id}/", {"is_active": False}, format="json").json()

    delivery.refresh_from_db()
    assert (disabled["is_active"], delivery.status) == (False, DeliveryStatus.CANCELLED)
    assert disabled["disabled_at"] is not None

    enabled = client.patch(f"{ENDPOINTS}{endpoint.id}/", {"is_active": True}, format="json").json()

    assert (enabled["is_active"], enabled["disabled_at"], enabled["disabled_reason"]) == (True, None, "")


def test_delete_removes_the_endpoint_and_its_deliveries(authenticate, org_admin, endpoint, make_delivery):
    make_delivery(endpoint)

    response = authenticate(org_admin).delete(f"{ENDPOINTS}{endpoint.id}/")

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_test_operation_sends_a_test_event_to_that_endpoint_only(
    authenticate, org_admin, endpoint, organization, receiver
):
    sibling = WebhookEndpointFactory(organization_id=organization.id, url=receiver.url("/sibling"))

    response = authenticate(org_admin).post(f"{ENDPOINTS}{endpoint.id}/test")

    assert response.status_code == 202
    body = response.json()
    assert (body["event_type"], body["status"], body["endpoint_id"]) == (
        "webhooks.endpoint.test",
        "PENDING",
        str(endpoint.id),
    )
    assert not WebhookDelivery.objects.filter(endpoint=sibling).exists()

    delivery_attempt(delivery_id=body["id"])

    (request,) = receiver.requests
    payload = request.verify(endpoint.secret)
    assert (payload["type"], payload["id"], payload["aggregate_id"]) == (
        "webhooks.endpoint.test",
        body["event_id"],
        str(endpoint.id),
    )
    assert payload["actor"] == str(org_admin.id)


def test_the_test_operation_refuses_a_disabled_endpoint(authenticate, org_admin, organization, receiver):
    disabled = WebhookEndpointFactory(organization_id=organization.id, is_active=False)

    response = authenticate(org_admin).post(f"{ENDPOINTS}{disabled.id}/test")

    assert (response.status_code, response.json()["code"]) == (409, "webhook_endpoint_inactive")
    assert not WebhookDelivery.objects.exists()


def test_deliveries_list_their_attempts_newest_delivery_first(
    authenticate, org_admin, endpoint, receiver, make_delivery
):
    receiver.reply(Reply(status=500, body=b"down"))
    older = make_delivery(endpoint)
    delivery_attempt(delivery_id=older.id)
    newer = make_delivery(endpoint)

    body = authenticate(org_admin).get(f"{ENDPOINTS}{endpoint.id}/deliveries/").json()

    assert [d["id"] for d in body["results"]] == [str(newer.id), str(older.id)]
    (attempt,) = body["results"][1]["attempts"]
    assert (attempt["attempt_number"], attempt["status_code"], attempt["response_excerpt"]) == (1, 500, "down")
    assert body["results"][1]["status"] == "FAILED"
    assert body["results"][0]["attempts"] == []
    failed_only = authenticate(org_admin).get(f"{ENDPOINTS}{endpoint.id}/deliveries/?status=FAILED").json()
    assert [d["id"] for d in failed_only["results"]] == [str(older.id)]


def test_endpoint_list_is_cursor_paginated_newest_first(authenticate, org_admin, organization, other_organization):
    mine = [WebhookEndpointFactory(organization_id=organization.id) for _ in range(3)]
    WebhookEndpointFactory(organization_id=other_organization.id)
    client = authenticate(org_admin)

    first = client.get(ENDPOINTS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [e["id"] for e in first["results"] + second["results"]] == [str(e.id) for e in reversed(mine)]
    assert second["next"] is None


def _endpoints(organization_id, n):
    return [WebhookEndpointFactory(organization_id=organization_id) for _ in range(n)]


def test_the_endpoint_list_costs_the_same_queries_for_2_or_20_rows(
    authenticate, org_admin, organization, django_assert_num_queries
):
    client = authenticate(org_admin)
    _endpoints(organization.id, 2)
    client.get(ENDPOINTS)  # warm the caches of authentication and permissions
    with django_assert_num_queries(4):
        assert len(client.get(ENDPOINTS).json()["results"]) == 2
    _endpoints(organization.id, 18)
    with django_assert_num_queries(4):
        assert len(client.get(ENDPOINTS).json()["results"]) == 20


def test_the_deliveries_list_costs_the_same_queries_for_1_or_10_deliveries(
    authenticate, org_admin, endpoint, receiver, emit_test_event, django_assert_num_queries
):
    client = authenticate(org_admin)
    url = f"{ENDPOINTS}{endpoint.id}/deliveries/"

    def deliveries(n):
        for _ in range(n):
            with transaction.atomic():
                deliveries_create_for_event(emit_test_event(endpoint.organization_id))
        for delivery in WebhookDelivery.objects.filter(attempts__isnull=True):
            delivery_attempt(delivery_id=delivery.id)

    deliveries(1)
    client.get(url)
    with django_assert_num_queries(6):
        assert len(client.get(url).json()["results"]) == 1
    deliveries(9)
    with django_assert_num_queries(6):
        assert len(client.get(url).json()["results"]) == 10
    assert WebhookAttempt.objects.count() == 10
