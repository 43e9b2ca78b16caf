"""Reads about users. The partner of an external user is resolved by the partners app, which
registers a resolver here (accounts may not import partners: ARCHITECTURE section 3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.accounts.models import User

PartnerResolver = Callable[[User], "dict[str, Any] | None"]
_partner_resolver: PartnerResolver | None = None


def register_partner_resolver(resolver: PartnerResolver) -> None:
    global _partner_resolver
    _partner_resolver = resolver


def partner_of(user: User) -> dict[str, Any] | None:
    """`{"id", "code", "name", "role"}` of an external user's partner, or None (applicants, staff)."""
    return _partner_resolver(user) if _partner_resolver is not None else None


def capabilities_of(user: User) -> list[str]:
    """Effective model-level capabilities (group and direct permissions), sorted."""
    if not user.is_active:
        return []
    return sorted(user.get_all_permissions())


@dataclass(frozen=True)
class Me:
    user: User
    partner: dict[str, Any] | None
    roles: list[str]
    capabilities: list[str]


def me(user: User) -> Me:
    return Me(
        user=user,
        partner=partner_of(user),
        roles=sorted(user.groups.values_list("name", flat=True)),
        capabilities=capabilities_of(user),
    )
