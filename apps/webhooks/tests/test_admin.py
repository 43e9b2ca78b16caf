"""The back office: secrets never shown, deliveries with attempts, replay through the service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.accounts.roles import Role
from apps.accounts.tests.factories import SuperAdminFactory
from apps.webhooks.models import DeliveryStatus, WebhookDelivery
from apps.webhooks.services.deliveries import delivery_attempt, delivery_replay
from apps.webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(SuperAdminFactory())
    return client


def test_the_organization_admin_role_manages_webhooks():
    perms = set(
        Group.objects.get(name=Role.ORGANIZATION_ADMIN)
        .permissions.filter(content_type__app_label="webhooks")
        .values_list("codename", flat=True)
    )

    assert perms == {
        "view_webhookendpoint",
        "add_webhookendpoint",
        "change_webhookendpoint",
        "delete_webhookendpoint",
        "view_webhookdelivery",
    }


def test_endpoint_pages_never_show_the_secret(admin_client, endpoint):
    endpoint.previous_secret = "whsec_cHJldmlvdXMtc2VjcmV0LXZhbHVlLTEyMzQ1Ng=="
    endpoint.previous_secret_expires_at = endpoint.created_at
    endpoint.save()

    listing = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"))
    detail = admin_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))

    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        html = page.content.decode()
        assert endpoint.secret not in html
        assert endpoint.previous_secret not in html
    assert endpoint.url in listing.content.decode()


def test_delivery_pages_show_attempts_and_filter_by_status(admin_client, endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=500, body=b"receiver says no"))
    delivery = make_delivery(endpoint)
    delivery_attempt(delivery_id=delivery.id)

    listing = admin_client.get(reverse("admin:webhooks_webhookdelivery_changelist"), {"status__exact": "FAILED"})
    detail = admin_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))

    assert listing.status_code == detail.status_code == 200
    assert str(delivery.event_id) in listing.content.decode()
    assert "receiver says no" in detail.content.decode()


def test_the_replay_action_puts_a_dead_delivery_back_in_the_queue(admin_client, endpoint, make_delivery):
    dead = make_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=dead.pk).update(
        status=DeliveryStatus.DEAD, attempt_count=10, next_attempt_at=None
    )
    succeeded = make_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=succeeded.pk).update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)

    response = admin_client.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [str(dead.pk), str(succeeded.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    dead.refresh_from_db()
    succeeded.refresh_from_db()
    assert (dead.status, dead.attempt_count) == ("PENDING", 0)
    assert dead.next_attempt_at is not None
    assert succeeded.status == "SUCCEEDED"
    messages = [str(m) for m in response.context["messages"]]
    assert any("only FAILED, DEAD or CANCELLED" in m for m in messages)
    assert any("1 deliver(ies) queued again." in m for m in messages)


def test_a_replayed_delivery_is_sent_again_with_a_fresh_schedule(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=500))
    delivery = make_delivery(endpoint)
    delivery_attempt(delivery_id=delivery.id)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD, next_attempt_at=None)

    delivery_replay(actor=SuperAdminFactory(), delivery_id=delivery.id)
    outcome = delivery_attempt(delivery_id=delivery.id)

    assert (outcome.status, outcome.attempt_number) == ("SUCCEEDED", 1)
    assert len(receiver.requests) == 2
    assert delivery.attempts.count() == 2


def test_replay_refuses_while_the_endpoint_is_disabled(endpoint, make_delivery):
    from apps.webhooks.errors import WebhookEndpointInactive

    delivery = make_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None)
    type(endpoint).objects.filter(pk=endpoint.pk).update(is_active=False)

    with pytest.raises(WebhookEndpointInactive):
        delivery_replay(actor=SuperAdminFactory(), delivery_id=delivery.id)


def _granted_replay(user):
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="replay_webhookdelivery"))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


def test_replay_is_refused_without_the_permission_or_for_another_organizations_endpoint(
    endpoint, make_delivery, org_admin
):
    from apps.accounts.tests.factories import UserFactory
    from apps.core.errors import PermissionDenied

    delivery = make_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD, next_attempt_at=None)
    stranger = _granted_replay(UserFactory())  # staff of another organization, with the permission

    for actor, detail in (
        (org_admin, "You need the permission webhooks.replay_webhookdelivery."),
        (stranger, "This delivery belongs to another owner's endpoint."),
    ):
        with pytest.raises(PermissionDenied) as refused:
            delivery_replay(actor=actor, delivery_id=delivery.id)
        assert (refused.value.status, refused.value.detail) == (403, detail)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.DEAD, None)

    delivery_replay(actor=_granted_replay(org_admin), delivery_id=delivery.id)  # its own organization's
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


ADD = "admin:webhooks_webhookendpoint_add"


def test_an_organization_admin_adds_an_endpoint_and_sees_its_secret_once(client, org_admin, receiver):
    from django.contrib.admin.models import LogEntry

    from apps.webhooks.models import WebhookEndpoint

    client.force_login(org_admin)

    page = client.get(reverse(ADD))
    response = client.post(
        reverse(ADD),
        {"url": receiver.url(), "event_types": "tradedesk.*, trades.trade.created", "description": "ERP bridge"},
        follow=True,
    )

    assert page.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.organization_id, endpoint.partner_id, endpoint.url) == (
        org_admin.organization_id,
        None,
        receiver.url(),
    )
    assert (endpoint.event_types, endpoint.description, endpoint.created_by_id) == (
        ["tradedesk.*", "trades.trade.created"],
        "ERP bridge",
        org_admin.pk,
    )
    assert response.redirect_chain[-1][0] == reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    assert endpoint.secret in response.content.decode()  # once, on the page after the addition
    assert endpoint.secret not in client.get(response.redirect_chain[-1][0]).content.decode()
    assert LogEntry.objects.get(object_id=str(endpoint.pk)).change_message == "Added through the endpoint service"


def test_a_refused_address_is_shown_on_the_form_with_the_input_and_nothing_is_written(client, org_admin):
    from apps.webhooks.models import WebhookEndpoint

    client.force_login(org_admin)

    response = client.post(reverse(ADD), {"url": "http://10.1.2.3/hook", "event_types": "*", "description": "x"})

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["url"]
    assert form.data["url"] == "http://10.1.2.3/hook"
    assert WebhookEndpoint.objects.count() == 0


def test_a_bad_address_and_bad_event_types_are_both_shown_at_once(client, org_admin):
    from apps.webhooks.models import WebhookEndpoint

    client.force_login(org_admin)

    response = client.post(reverse(ADD), {"url": "http://169.254.169.254/latest", "event_types": "not a pattern!!"})

    assert response.status_code == 200
    assert sorted(response.context["form"].errors) == ["event_types", "url"]
    assert WebhookEndpoint.objects.count() == 0


def test_only_staff_who_own_endpoints_and_hold_the_permission_may_add(client, organization):
    from apps.accounts.tests.factories import UserFactory
    from apps.webhooks.models import WebhookEndpoint

    for user in (SuperAdminFactory(), UserFactory(organization=organization)):  # no owner / no permission
        client.force_login(user)
        assert client.get(reverse(ADD)).status_code == 403
        assert client.post(reverse(ADD), {"url": "https://example.com/h", "event_types": "*"}).status_code == 403
    assert WebhookEndpoint.objects.count() == 0
