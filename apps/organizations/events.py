"""Event types of the organizations app and their payloads."""

from __future__ import annotations

from typing import Any

from apps.organizations.models import Organization

ORGANIZATION_CREATED = "organizations.organization.created"
ORGANIZATION_UPDATED = "organizations.organization.updated"


def organization_payload(organization: Organization) -> dict[str, Any]:
    return {"code": organization.code, "name": organization.name, "is_active": organization.is_active}
