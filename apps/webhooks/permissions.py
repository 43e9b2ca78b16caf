"""Who may see and manage which webhook endpoints.

- Platform admins see every endpoint.
- Organization staff (INTERNAL) own their organization's endpoints (those without a partner).
- Partner users (EXTERNAL) own their partner's endpoints; their partner comes from the resolver
  the partners app registers (ownership.py). Without one they own nothing.

Seeing an endpoint decides between 404 and the rest; the model permissions
(`webhooks.view_webhookendpoint` ...) then decide between 403 and success.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q

from apps.core.actors import Actor
from apps.core.errors import PermissionDenied
from apps.webhooks.errors import WebhookOwnerRequired
from apps.webhooks.ownership import partner_id_of

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

# What each role may do with webhooks. Registered by accounts at its ready() (this app imports
# no domain app, hence the role name as a string; an unknown name fails at start-up).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "organization_admin": [
        "webhooks.view_webhookendpoint",
        "webhooks.add_webhookendpoint",
        "webhooks.change_webhookendpoint",
        "webhooks.delete_webhookendpoint",
        "webhooks.view_webhookdelivery",
    ],
}


@dataclass(frozen=True)
class Owner:
    organization_id: UUID
    partner_id: UUID | None


def owner_of(user: Actor) -> Owner | None:
    """The owner a user creates endpoints for, or None (platform admins, partner-less externals)."""
    user_type = getattr(user, "user_type", None)
    organization_id = getattr(user, "organization_id", None)
    if organization_id is None:
        return None
    if user_type == "INTERNAL":
        return Owner(organization_id=organization_id, partner_id=None)
    if user_type == "EXTERNAL":
        partner_id = partner_id_of(user)
        return Owner(organization_id=organization_id, partner_id=partner_id) if partner_id else None
    return None


def endpoint_scope(user: Actor) -> Q | None:
    """A filter on WebhookEndpoint of what `user` may see; None when it sees nothing."""
    if getattr(user, "user_type", None) == "SUPER_ADMIN":
        return Q()
    owner = owner_of(user)
    if owner is None:
        return None
    if owner.partner_id is None:
        return Q(organization_id=owner.organization_id, partner_id__isnull=True)
    return Q(organization_id=owner.organization_id, partner_id=owner.partner_id)


def ensure_has_perm(user: Actor, action: str, model: str = "webhookendpoint") -> None:
    if not user.has_perm(f"webhooks.{action}_{model}"):
        raise PermissionDenied(f"You need the permission webhooks.{action}_{model}.")


def ensure_can_list_endpoints(user: Actor) -> Q:
    scope = endpoint_scope(user)
    if scope is None:
        raise WebhookOwnerRequired()
    ensure_has_perm(user, VIEW)
    return scope


def ensure_can_create_endpoint(user: Actor) -> Owner:
    owner = owner_of(user)
    if owner is None:
        raise WebhookOwnerRequired()
    ensure_has_perm(user, ADD)
    return owner


REPLAY_DELIVERY = "webhooks.replay_webhookdelivery"


def ensure_can_replay_delivery(actor: Actor, endpoint_organization_id: UUID, endpoint_partner_id: UUID | None) -> None:
    """Replaying sends again: only holders of `webhooks.replay_webhookdelivery` (no role grants
    it; the platform admin holds every permission), and only for an endpoint they may see."""
    if not actor.has_perm(REPLAY_DELIVERY):
        raise PermissionDenied(f"You need the permission {REPLAY_DELIVERY}.")
    if actor.user_type == "SUPER_ADMIN" or actor.is_superuser:
        return
    owner = owner_of(actor)
    if owner is None or (owner.organization_id, owner.partner_id) != (endpoint_organization_id, endpoint_partner_id):
        raise PermissionDenied("This delivery belongs to another owner's endpoint.")
