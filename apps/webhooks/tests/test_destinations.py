"""Endpoints on private, link-local or loopback addresses are refused, and nothing is created."""

from __future__ import annotations

import ipaddress

import pytest

from apps.webhooks.destinations import address_refusal
from apps.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhooks/endpoints/"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hooks",
        "http://192.168.1.5:8080/hooks",
        "http://172.16.3.4/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hooks",
        "http://[fd00::1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_create_refuses_private_and_link_local_addresses(authenticate, org_admin, url):
    response = authenticate(org_admin).post(ENDPOINTS, {"url": url, "event_types": ["*"]}, format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "webhook_url_not_allowed"
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [("url", "webhook_url_not_allowed")]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hooks", "http://localhost:8000/hooks", "http://[::1]/hooks", "http://127.9.9.9/"]
)
def test_create_refuses_loopback_unless_allowed(authenticate, org_admin, settings, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    response = authenticate(org_admin).post(ENDPOINTS, {"url": url, "event_types": ["*"]}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "attr": "url",
        "code": "webhook_url_not_allowed",
        "detail": response.json()["errors"][0]["detail"],
    }
    assert "loopback" in response.json()["errors"][0]["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_update_refuses_a_private_url_and_keeps_the_old_one(authenticate, org_admin, endpoint):
    old_url = endpoint.url

    response = authenticate(org_admin).patch(
        f"{ENDPOINTS}{endpoint.id}/", {"url": "http://192.168.1.5/hooks"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_url_not_allowed"
    endpoint.refresh_from_db()
    assert endpoint.url == old_url


def test_an_unresolvable_host_is_refused(authenticate, org_admin):
    response = authenticate(org_admin).post(
        ENDPOINTS, {"url": "http://no-such-host.invalid/hooks", "event_types": ["*"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "webhook_url_unresolvable"
    assert not WebhookEndpoint.objects.exists()


def test_only_http_and_https_are_accepted(authenticate, org_admin):
    response = authenticate(org_admin).post(
        ENDPOINTS, {"url": "ftp://127.0.0.1/hooks", "event_types": ["*"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "url"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("address", "allow_private", "allow_loopback", "refused"),
    [
        ("93.184.216.34", False, False, False),
        ("2606:2800:220:1:248:1893:25c8:1946", False, False, False),
        ("10.0.0.1", False, False, True),
        ("10.0.0.1", True, False, False),
        ("100.64.0.1", False, False, True),  # carrier-grade NAT
        ("127.0.0.1", True, False, True),
        ("127.0.0.1", False, True, False),
        ("::ffff:127.0.0.1", False, False, True),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False, False, True),
        ("169.254.169.254", True, True, True),  # link-local: never
        ("fe80::1", True, True, True),
        ("224.0.0.1", True, True, True),
    ],
)
def test_address_rules(settings, address, allow_private, allow_loopback, refused):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = allow_private
    settings.WEBHOOKS_ALLOW_LOOPBACK = allow_loopback

    assert (address_refusal(ipaddress.ip_address(address)) is not None) is refused


# --- IPv4 embedded in IPv6 (issue 14, item 12) ------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("2002:a9fe:a9fe::", "169.254.169.254"),  # 6to4
        ("2002:7f00:1::", "127.0.0.1"),
        ("2002:0a00:0001::1", "10.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:5601:5601", "169.254.169.254"),  # Teredo: the client's address, inverted
        ("2001:0:a9fe:a9fe::1", "169.254.169.254"),  # Teredo: a link-local server
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64 well-known prefix
        ("64:ff9b:1::7f00:1", "127.0.0.1"),  # NAT64 local-use prefix
        ("::ffff:a9fe:a9fe", "169.254.169.254"),  # IPv4-mapped
        ("::a9fe:a9fe", "169.254.169.254"),  # IPv4-compatible (deprecated)
        ("::ffff:0:a9fe:a9fe", "169.254.169.254"),  # IPv4-translated (SIIT)
    ],
)
def test_ipv6_addresses_embedding_a_refused_ipv4_are_refused(settings, address, embedded):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    assert address_refusal(ipaddress.ip_address(embedded)) is not None

    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("url", ["http://[2002:a9fe:a9fe::]/latest/meta-data/", "http://[2002:7f00:1::]:8000/hooks"])
def test_create_refuses_6to4_urls_that_reach_metadata_or_loopback(authenticate, org_admin, settings, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    response = authenticate(org_admin).post(ENDPOINTS, {"url": url, "event_types": ["*"]}, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "webhook_url_not_allowed"
    assert not WebhookEndpoint.objects.exists()


def test_a_6to4_address_of_a_public_ipv4_is_still_allowed():
    assert address_refusal(ipaddress.ip_address("2002:0808:0808::1")) is None  # 8.8.8.8
