"""Which partner an external user acts for: a domain answer this app may not compute itself.

The partners app registers a resolver in its `AppConfig.ready()` (ARCHITECTURE section 3).
Until one is registered, external users have no partner and so own no webhook endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

PartnerResolver = Callable[[Any], "UUID | str | None"]

_partner_resolver: PartnerResolver | None = None


def register_partner_resolver(fn: PartnerResolver | None) -> None:
    """`fn(user)` returns the id of the partner an external user acts for, or None.
    Passing None removes the resolver (tests)."""
    global _partner_resolver
    _partner_resolver = fn


def partner_id_of(user: Any) -> UUID | None:
    if getattr(user, "user_type", None) != "EXTERNAL" or _partner_resolver is None:
        return None
    partner_id = _partner_resolver(user)
    if partner_id is None:
        return None
    return partner_id if isinstance(partner_id, UUID) else UUID(str(partner_id))
