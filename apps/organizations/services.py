"""Organization use cases. Every write emits its event in the same transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction

from apps.events.emit import emit
from apps.organizations.events import ORGANIZATION_CREATED, ORGANIZATION_UPDATED, organization_payload
from apps.organizations.models import Organization

UPDATABLE_FIELDS = frozenset({"name", "legal_name", "pan", "base_currency", "is_active", "settings"})


def organization_create(
    *, code: str, name: str, legal_name: str = "", pan: str = "", actor: Any = None
) -> Organization:
    with transaction.atomic():
        organization = Organization(code=code.strip().upper(), name=name, legal_name=legal_name or name, pan=pan)
        organization.full_clean()
        organization.save()
        emit(
            ORGANIZATION_CREATED,
            aggregate=organization,
            organization_id=organization.id,
            actor=actor,
            payload=organization_payload(organization),
        )
    return organization


def organization_update(*, organization_id: UUID, actor: Any = None, **changes: Any) -> Organization:
    """Change profile fields; emits `organizations.organization.updated` with what changed."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization_id)
        changed = {k: v for k, v in changes.items() if getattr(organization, k) != v}
        if not changed:
            return organization
        before = {k: getattr(organization, k) for k in changed}
        for key, value in changed.items():
            setattr(organization, key, value)
        organization.full_clean()
        organization.save(update_fields=[*changed, "updated_at"])
        emit(
            ORGANIZATION_UPDATED,
            aggregate=organization,
            organization_id=organization.id,
            actor=actor,
            payload={**organization_payload(organization), "changed": {k: [before[k], changed[k]] for k in changed}},
        )
    return organization
