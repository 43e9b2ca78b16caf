"""Exposure monitoring (SPEC section 11): the utilisation level of each credit row.

The level is stored on the credit row; `account_reevaluate` runs after every exposure or limit
change (under the row's lock, in that transaction) and from the beat sweep. A level crossing,
up or down, writes one ExposureAlert and emits one risk.exposure.alert; re-evaluating at an
unchanged level writes and emits nothing, so a crossing is announced exactly once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from apps.events.emit import emit
from apps.risk import events
from apps.risk.models import STAGE_TOTAL_FIELD, CreditAccount, ExposureAlert, RiskSettings, UtilisationLevel
from apps.risk.rules import LEVEL_RANK, LEVEL_THRESHOLDS, level_for


def account_reevaluate(account: CreditAccount) -> ExposureAlert | None:
    """Set the level of a LOCKED credit row from its exposure and limit; on a change, record
    and emit the alert (in the caller's transaction). Returns the alert, or None."""
    new_level = level_for(Decimal(account.exposure), Decimal(account.credit_limit))
    if new_level == account.level:
        return None
    old_level = account.level
    account.level = new_level
    account.level_changed_at = timezone.now()
    account.save(update_fields=["level", "level_changed_at", "updated_at"])
    alert = ExposureAlert.objects.create(
        organization_id=account.organization_id,
        partner_id=account.partner_id,
        from_level=old_level,
        to_level=new_level,
        exposure=account.exposure,
        credit_limit=account.credit_limit,
        utilisation=account.utilisation,
    )
    emit(
        events.EXPOSURE_ALERT,
        aggregate=account,
        partner_id=account.partner_id,
        payload={
            "alert_id": str(alert.pk),
            "partner_id": str(account.partner_id),
            "from_level": old_level,
            "to_level": new_level,
            "direction": "up" if LEVEL_RANK[new_level] > LEVEL_RANK[old_level] else "down",
            "exposure": str(account.exposure),
            "credit_limit": str(account.credit_limit),
            "utilisation": str(account.utilisation) if account.utilisation is not None else None,
        },
    )
    return alert


def _weighted_exposure(settings: RiskSettings) -> Any:
    terms = [F(field) * Value(settings.weight(stage)) for stage, field in STAGE_TOTAL_FIELD.items()]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return Cast(total, output_field=models.DecimalField(max_digits=18, decimal_places=2))


def _level_case() -> Case:
    whens = [
        When(exposure__lte=0, then=Value(UtilisationLevel.NORMAL)),
        When(credit_limit__lte=0, then=Value(UtilisationLevel.CRITICAL)),
    ]
    whens += [
        When(exposure__gte=F("credit_limit") * Value(threshold), then=Value(level))
        for threshold, level in LEVEL_THRESHOLDS
    ]
    return Case(*whens, default=Value(UtilisationLevel.NORMAL), output_field=models.CharField())


def exposure_sweep() -> int:
    """Beat: bring every credit row's weighted exposure in line with its organization's current
    stage weights (they are data and may have changed: one UPDATE per organization, touching
    only rows that differ), then re-evaluate each row whose stored level disagrees with its
    exposure and limit, locked in its own short transaction. Returns the alerts emitted."""
    from apps.risk.locks import lock_credit_account
    from apps.risk.services.settings import risk_settings_for

    organization_ids = CreditAccount.objects.values_list("organization_id", flat=True).distinct()
    for organization_id in list(organization_ids):
        expression = _weighted_exposure(risk_settings_for(organization_id))
        (
            CreditAccount.objects.filter(organization_id=organization_id)
            .annotate(expected=expression)
            .exclude(exposure=F("expected"))
            .update(exposure=expression)
        )
    stale = (
        CreditAccount.objects.annotate(expected_level=_level_case())
        .exclude(level=F("expected_level"))
        .values_list("partner_id", flat=True)
    )
    alerts = 0
    for partner_id in list(stale):
        with transaction.atomic():
            if account_reevaluate(lock_credit_account(partner_id)) is not None:
                alerts += 1
    return alerts
