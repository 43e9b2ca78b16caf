"""Where a webhook may be sent: http(s) URLs whose host resolves only to allowed addresses.

Checked when an endpoint is created or its URL changed, and again before every attempt (DNS can
change between the two); the attempt then connects to the address that was checked, so a
second lookup cannot swap in another one.

Refused unless a setting allows them: loopback (`WEBHOOKS_ALLOW_LOOPBACK`) and private or
shared ranges (`WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`). Always refused: link-local (169.254.0.0/16,
fe80::/10: the cloud metadata service lives there), unspecified, multicast and reserved ranges,
and IPv6 addresses embedding a refused IPv4 address (6to4, Teredo, NAT64, mapped, compatible).
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


# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway or the host's stack will reach.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, 6to4 (2002::/16), Teredo
    (2001::/32: server and client), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), IPv4-compatible
    (::/96) and IPv4-translated (::ffff:0:0:0/96). A 6to4 or NAT64 gateway, or the host itself,
    delivers to that IPv4 address, so it must pass the same checks (issue 14)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    last32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in _NAT64):
        found.append(last32)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1 (judged as themselves)
        found.append(last32)
    if address in _IPV4_TRANSLATED:
        found.append(last32)
    return found


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` may not receive webhooks, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        else:
            for inner in embedded_ipv4(address):
                reason = address_refusal(inner)
                if reason is not None:
                    return f"{reason} ({inner}, embedded in {address})"
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
