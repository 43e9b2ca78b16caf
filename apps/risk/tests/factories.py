"""Builders of risk test data and the SQL that checks the ledger against the credit rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection

from apps.risk.models import CreditAccount


def set_credit(partner: Any, **fields: Any) -> CreditAccount:
    """The partner's credit row with `fields` set (limit, rating, performance ...)."""
    from apps.risk.services.settings import risk_settings_for

    risk_settings_for(partner.organization_id)
    CreditAccount.objects.get_or_create(partner_id=partner.pk, defaults={"organization_id": partner.organization_id})
    CreditAccount.objects.filter(partner_id=partner.pk).update(**fields)
    return CreditAccount.objects.get(partner_id=partner.pk)


LEDGER_DISAGREEMENTS_SQL = """
WITH open_totals AS (
    SELECT partner_id, stage, SUM(amount) AS total
    FROM risk_exposureentry WHERE released_at IS NULL GROUP BY partner_id, stage
)
SELECT a.partner_id
FROM risk_creditaccount a
JOIN risk_risksettings s ON s.organization_id = a.organization_id
LEFT JOIN LATERAL (
    SELECT
        COALESCE(SUM(total) FILTER (WHERE stage = 'POSTED'), 0) AS posted,
        COALESCE(SUM(total) FILTER (WHERE stage = 'MATCHED'), 0) AS matched,
        COALESCE(SUM(total) FILTER (WHERE stage = 'NEGOTIATING'), 0) AS negotiating,
        COALESCE(SUM(total) FILTER (WHERE stage = 'CONTRACTED'), 0) AS contracted,
        COALESCE(SUM(total) FILTER (WHERE stage = 'DELIVERED_UNBILLED'), 0) AS delivered,
        COALESCE(SUM(total) FILTER (WHERE stage = 'INVOICED'), 0) AS invoiced
    FROM open_totals o WHERE o.partner_id = a.partner_id
) l ON TRUE
WHERE a.posted_amount <> l.posted OR a.matched_amount <> l.matched
   OR a.negotiating_amount <> l.negotiating OR a.contracted_amount <> l.contracted
   OR a.delivered_unbilled_amount <> l.delivered OR a.invoiced_amount <> l.invoiced
   OR a.exposure <> ROUND(
        l.posted * s.weight_posted + l.matched * s.weight_matched + l.negotiating * s.weight_negotiating
        + l.contracted * s.weight_contracted + l.delivered * s.weight_delivered_unbilled
        + l.invoiced * s.weight_invoiced, 2)
"""


def ledger_disagreements() -> list[Any]:
    """Partners whose credit row's stage totals or weighted exposure differ from their open
    ledger entries (by SQL, not through the services). Empty when all agree."""
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_DISAGREEMENTS_SQL)
        return [row[0] for row in cursor.fetchall()]


def exposure_and_limit(partner: Any) -> tuple[Decimal, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT exposure, credit_limit FROM risk_creditaccount WHERE partner_id = %s", [partner.pk])
        exposure, limit = cursor.fetchone()
    return exposure, limit
