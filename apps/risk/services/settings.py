"""The organization's risk settings row (stage weights, the limit approval threshold)."""

from __future__ import annotations

from uuid import UUID

from apps.risk.models import RiskSettings


def risk_settings_for(organization_id: UUID) -> RiskSettings:
    """The organization's settings, created with the defaults on first use (get_or_create
    survives two first uses at once: the loser reads the winner's row)."""
    settings = RiskSettings.objects.filter(organization_id=organization_id).first()
    if settings is None:
        settings, _ = RiskSettings.objects.get_or_create(organization_id=organization_id)
    return settings
