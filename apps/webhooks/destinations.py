"""Where a webhook may be sent: http(s) URLs whose host resolves only to allowed addresses.

Checked when an endpoint is created or its URL changed, and again before every attempt (DNS can
change between the two); the attempt then connects to the address that was checked, so a
second lookup cannot swap in another one.

Refused unless a setting allows them: loopback (`WEBHOOKS_ALLOW_LOOPBACK`) and private or
shared ranges (`WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`). Always refused: link-local (169.254.0.0/16,
fe80::/10: the cloud metadata service lives there), unspecified, multicast and reserved ranges.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from apps.webhooks.errors import WebhookUrlNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` may not receive webhooks, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if settings.WEBHOOKS_ALLOW_LOOPBACK else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "a reserved address"
    if address.is_global:
        return None
    return None if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES else "a private address"


def resolve_destination(url: str) -> Destination:
    """Parse and resolve `url`; refuse unless every address it resolves to is allowed.

    Raises WebhookUrlNotAllowed carrying a field error on `url`.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise WebhookUrlNotAllowed.for_field("url", f"Expected an http or https URL, got scheme {scheme!r}.")
    host = parts.hostname
    if not host:
        raise WebhookUrlNotAllowed.for_field("url", "The URL has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlNotAllowed.for_field("url", "The URL has an invalid port.") from None
    addresses = _resolve(host, port)
    for address in addresses:
        reason = address_refusal(address)
        if reason is not None:
            raise WebhookUrlNotAllowed.for_field(
                "url", f"{host} resolves to {address}, {reason}; webhooks are only sent to public addresses."
            )
    return Destination(url=url, scheme=scheme, host=host, port=port, addresses=addresses)


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlNotAllowed.for_field(
            "url", f"The host {host} could not be resolved ({exc}).", code="webhook_url_unresolvable"
        ) from None
    # getaddrinfo may return an IPv6 address with a zone ("fe80::1%eth0"): the zone is dropped,
    # the address is still link-local and refused.
    addresses = tuple(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
    if not addresses:
        raise WebhookUrlNotAllowed.for_field(
            "url", f"The host {host} has no addresses.", code="webhook_url_unresolvable"
        )
    return addresses
