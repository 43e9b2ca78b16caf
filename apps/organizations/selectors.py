from __future__ import annotations

from apps.organizations.models import Organization


def organization_by_code(code: str) -> Organization | None:
    """An active organization by its public code (case-insensitive), or None."""
    return Organization.objects.filter(code=code.strip().upper(), is_active=True).first()
