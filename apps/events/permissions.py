"""Who may act on the outbox.

Only holders of `events.replay_outboxevent` replay a dead-lettered event (no role grants it: the
platform admin holds every permission). An event of an organization is replayed only by someone
of that organization or the platform; events without an organization (platform-wide ones) only
by the platform.
"""

from __future__ import annotations

from apps.core.actors import Actor
from apps.core.errors import PermissionDenied
from apps.events.models import OutboxEvent

REPLAY = "events.replay_outboxevent"


def ensure_can_replay_event(actor: Actor, event: OutboxEvent) -> None:
    if not actor.has_perm(REPLAY):
        raise PermissionDenied(f"You need the permission {REPLAY}.")
    if actor.user_type == "SUPER_ADMIN" or actor.is_superuser:
        return
    if event.organization_id is None or event.organization_id != actor.organization_id:
        raise PermissionDenied("This event belongs to another organization.")
