"""Who hears what: the groups a socket joins, the groups an event goes to, and what each sees.

Realtime imports no domain app (ARCHITECTURE section 3). Users are read duck-typed
(`pk`, `user_type`, `organization_id`, `is_active`); whatever only a domain app can answer is
registered here by that app in its `AppConfig.ready()`:

- `register_partner_resolver(fn)`: which partner an EXTERNAL user acts for (the partners app).
- `register_audience_filter(pattern, fn)`: what an audience may see of an event's payload.
- `register_audience_router(pattern, fn)`: further groups an event goes to (a topic such as
  `market.<org id>.<commodity>`, partners invited to see a posting), each with its own payload.

Groups (channel-layer names):

    user.<user id>       every socket of that user (force-close goes here)
    org.<org id>         INTERNAL staff of that organization
    partner.<partner id> EXTERNAL users acting for that partner
    platform             SUPER_ADMIN sockets: platform-wide notices sent to it directly. Events are
                         not routed there (a firehose of every tenant); a platform admin follows an
                         organization by subscribing to `org.<id>` (topics.py).
    <prefix>.<...>       a topic sockets subscribe to (topics.py), reached only through a router
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from apps.events.envelope import EventEnvelope

# The values of accounts.UserType; compared as strings so this app need not import accounts.
SUPER_ADMIN = "SUPER_ADMIN"
INTERNAL = "INTERNAL"
EXTERNAL = "EXTERNAL"

PLATFORM_GROUP = "platform"

# "user", "org" or "partner" (the groups sockets join on connect), or a topic prefix (topics.py).
AudienceKind = str
PartnerResolver = Callable[[Any], Any]
AudienceFilter = Callable[[EventEnvelope, "Audience"], dict[str, Any] | None]
# (audience, the payload it sees): a routed audience never falls back to the whole payload.
RoutedAudience = tuple["Audience", dict[str, Any]]
AudienceRouter = Callable[[EventEnvelope], list[RoutedAudience]]


@dataclass(frozen=True)
class Audience:
    """One group of sockets an event may be sent to."""

    kind: AudienceKind
    id: str

    @property
    def group(self) -> str:
        return f"{self.kind}.{self.id}"


def user_group(user_id: Any) -> str:
    return Audience("user", str(user_id)).group


# --- Partner of a user ---------------------------------------------------------------------

_partner_resolver: PartnerResolver | None = None


def register_partner_resolver(fn: PartnerResolver | None) -> None:
    """`fn(user) -> partner id or None`, called (sync, may query) when an EXTERNAL user connects.
    One resolver: registering again replaces it; `None` removes it."""
    global _partner_resolver
    _partner_resolver = fn


def partner_of(user: Any) -> str | None:
    if _partner_resolver is None:
        return None
    partner_id = _partner_resolver(user)
    return str(partner_id) if partner_id else None


def groups_for_user(user: Any) -> list[str]:
    """The groups a socket of `user` joins on connect (sync: the partner resolver may query)."""
    groups = [user_group(user.pk)]
    user_type = getattr(user, "user_type", None)
    if user_type == SUPER_ADMIN:
        groups.append(PLATFORM_GROUP)
    elif user_type == INTERNAL and getattr(user, "organization_id", None):
        groups.append(Audience("org", str(user.organization_id)).group)
    elif user_type == EXTERNAL:
        partner_id = partner_of(user)
        if partner_id:
            groups.append(Audience("partner", partner_id).group)
    return groups


# --- Where an event goes --------------------------------------------------------------------


def user_aggregate_type() -> str:
    """`accounts.user`, read from the user model rather than imported from accounts."""
    return str(get_user_model()._meta.label_lower)


def audiences_for_event(envelope: EventEnvelope) -> list[Audience]:
    """Every audience an event may reach; `payload_for` then decides what (if anything) each sees."""
    audiences: list[Audience] = []
    if envelope.organization:
        audiences.append(Audience("org", envelope.organization))
    if envelope.partner:
        audiences.append(Audience("partner", envelope.partner))
    if envelope.aggregate_type == user_aggregate_type():
        audiences.append(Audience("user", envelope.aggregate_id))
    return audiences


# --- What each audience sees ----------------------------------------------------------------

_filters: dict[str, AudienceFilter] = {}


def register_audience_filter(event_type_pattern: str, fn: AudienceFilter) -> None:
    """`fn(envelope, audience) -> payload or None` for events whose type matches the pattern
    (`*`, `tradedesk.*` or an exact type; fnmatch). `None` withholds the event from that
    audience. The most specific pattern wins: an exact type, else the longest pattern."""
    _filters[event_type_pattern] = fn


def unregister_audience_filter(event_type_pattern: str) -> None:
    _filters.pop(event_type_pattern, None)


def default_payload(envelope: EventEnvelope, audience: Audience) -> dict[str, Any] | None:
    """Staff of the organization, the partner named on the event and the user the event is
    about see the whole payload."""
    return envelope.payload


def _most_specific(registry: dict[str, Any], event_type: str) -> Any:
    """The entry for an exact type, else for the longest matching pattern; None without one."""
    exact = registry.get(event_type)
    if exact is not None:
        return exact
    matching = [pattern for pattern in registry if pattern == "*" or fnmatch.fnmatchcase(event_type, pattern)]
    if not matching:
        return None
    return registry[max(matching, key=len)]


def _filter_for(event_type: str) -> AudienceFilter:
    return _most_specific(_filters, event_type) or default_payload


def payload_for(envelope: EventEnvelope, audience: Audience) -> dict[str, Any] | None:
    return _filter_for(envelope.type)(envelope, audience)


# --- Further audiences, routed by the domain ------------------------------------------------

_routers: dict[str, AudienceRouter] = {}


def register_audience_router(event_type_pattern: str, fn: AudienceRouter) -> None:
    """`fn(envelope) -> [(audience, payload), ...]`: groups an event goes to beyond its
    organization, its partner and the user it is about (`audiences_for_event`), each with the
    payload that group sees, for events whose type matches the pattern (same rules as filters:
    the most specific pattern wins). Typically topic groups (`Audience("market", "<org>.<code>")`
    is the group `market.<org>.<code>`) or other partners' groups. Sync; may query the database
    (it runs in the relay's worker, outside any transaction). A group an event already reaches
    through its own audiences keeps that payload (fanout.messages_for)."""
    _routers[event_type_pattern] = fn


def unregister_audience_router(event_type_pattern: str) -> None:
    _routers.pop(event_type_pattern, None)


def routed_audiences(envelope: EventEnvelope) -> list[RoutedAudience]:
    router = _most_specific(_routers, envelope.type)
    return list(router(envelope)) if router is not None else []
