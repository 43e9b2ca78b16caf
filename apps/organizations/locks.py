"""Row locks of organizations' master data.

Lock order: every write of an organization's master data first locks the organization row
(`lock_organization`), then the rows it changes. That one lock serialises the moves of the
primary/default/active flags and the overlap check of financial years per organization; the
database constraints (models.py) back them up. Numbering (`services.numbering`) locks only the
series row it increments, so documents of different types never wait for one another.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from django.db.models import Model

from apps.core.errors import NotFound
from apps.organizations.models import Organization

M = TypeVar("M", bound=Model)


def lock_organization(organization_id: UUID) -> Organization:
    """SELECT ... FOR UPDATE of the organization: the first lock of every master-data write."""
    organization = Organization.objects.select_for_update().filter(pk=organization_id).first()
    if organization is None:
        raise NotFound("No such organization.")
    return organization


def lock_child(model: type[M], *, organization_id: UUID, pk: UUID, what: str) -> M:
    """SELECT ... FOR UPDATE of a row of the organization's master data (after `lock_organization`)."""
    row = model._default_manager.select_for_update().filter(organization_id=organization_id, pk=pk).first()
    if row is None:
        raise NotFound(f"No such {what} in this organization.")
    return row
