"""KYC after approval (SPEC section 6): renewal by a KYC officer, and the sweep the beat runs.

KYC expires PARTNERS_KYC_VALIDITY_DAYS after verification; reminders go out at each of
PARTNERS_KYC_REMINDER_DAYS before expiry, each once; a lapsed KYC turns EXPIRED (the trade desk
then refuses the partner's postings, negotiations and trades: `capabilities.trading_refusal`)
until a renewal, which asks for freshly verified documents.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.events.emit import emit
from apps.partners import events
from apps.partners.documents import required_documents
from apps.partners.errors import DocumentsMissing
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner, DocumentStatus, KycReminder, KycStatus, PartnerDocument
from apps.partners.permissions import ensure_staff_capability
from apps.partners.services.capabilities import partner_recompute_capabilities

RENEW_KYC = "partners.renew_kyc"
PARTNER_AGGREGATE = BusinessPartner._meta.label_lower


def renewal_missing_documents(partner: BusinessPartner, *, today: date) -> list[str]:
    """The document types a renewal still needs: each required type (for the partner's entity,
    as at onboarding) wants a VERIFIED document uploaded after the last KYC verification and not
    past its expiry date."""
    required = required_documents(
        entity_class=partner.entity_class,
        business_type=partner.business_type,
        service_type=partner.service_type,
        imports_or_exports=partner.imports_or_exports,
        owns_lorries=partner.owns_lorries,
        gstin=partner.gstin,
    )
    fresh = PartnerDocument.objects.filter(partner_id=partner.pk, status=DocumentStatus.VERIFIED).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )
    if partner.kyc_verified_at is not None:
        fresh = fresh.filter(created_at__gt=partner.kyc_verified_at)
    present = set(fresh.values_list("document_type", flat=True))
    return [doc_type for doc_type in required if doc_type not in present]


def kyc_renew(*, actor: User, partner_id: UUID) -> BusinessPartner:
    """Renew a partner's KYC (before or after it expired): staff of its organization with
    partners.renew_kyc (404 outside it, 403 without it). Refuses, listing them, when a required
    document has no fresh verified copy (400 documents_missing). The officer who verified the
    documents may renew (the capability covers both steps; the owner uploaded them). Sets KYC
    VERIFIED now, expiring PARTNERS_KYC_VALIDITY_DAYS from today (a new expiry date, so the
    reminders start over), recomputes the capabilities. Emits partners.kyc.renewed."""
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_staff_capability(actor, partner.organization_id, RENEW_KYC)
        today = timezone.localdate()
        missing = renewal_missing_documents(partner, today=today)
        if missing:
            raise DocumentsMissing(
                f"Renewal needs a verified copy, uploaded since the last verification, of: {', '.join(missing)}.",
                errors=[{"attr": "documents", "code": "missing", "detail": doc_type} for doc_type in missing],
                extra={"missing": missing},
            )
        previous_status, previous_expiry = partner.kyc_status, partner.kyc_expires_on
        partner.kyc_status = KycStatus.VERIFIED
        partner.kyc_verified_at = timezone.now()
        partner.kyc_expires_on = today + timedelta(days=settings.PARTNERS_KYC_VALIDITY_DAYS)
        partner.save(update_fields=["kyc_status", "kyc_verified_at", "kyc_expires_on", "updated_at"])
        emit(
            events.KYC_RENEWED,
            aggregate=partner,
            actor=actor,
            partner_id=partner.pk,
            payload={
                "kyc_expires_on": str(partner.kyc_expires_on),
                "previous_kyc_status": previous_status,
                "previous_kyc_expires_on": str(previous_expiry) if previous_expiry else None,
            },
        )
        partner_recompute_capabilities(partner, actor=actor, reason="KYC renewed", today=today)
    return partner


# --- the sweep (Celery beat: apps.partners.tasks.kyc_sweep) ------------------------------------


def kyc_sweep(*, today: date | None = None) -> dict[str, int]:
    """Expire lapsed KYC, send due reminders, expire lapsed documents. Safe to run as often as
    wanted, also twice at once: each reminder, expiry and document expiry happens exactly once.
    One short transaction per partner."""
    today = today or timezone.localdate()
    return {
        "kyc_expired": _expire_kyc(today),
        "reminders_sent": _send_reminders(today),
        "documents_expired": _expire_documents(today),
    }


def _expire_kyc(today: date) -> int:
    """VERIFIED with an expiry date before today -> EXPIRED, by a conditional UPDATE: a second
    sweep (or one racing a renewal) finds nothing left to change. Emits partners.kyc.expired."""
    expired = 0
    candidates = BusinessPartner.objects.filter(kyc_status=KycStatus.VERIFIED, kyc_expires_on__lt=today)
    for pk, organization_id, expires_on in candidates.values_list("pk", "organization_id", "kyc_expires_on"):
        with transaction.atomic():
            changed = BusinessPartner.objects.filter(
                pk=pk, kyc_status=KycStatus.VERIFIED, kyc_expires_on__lt=today
            ).update(kyc_status=KycStatus.EXPIRED, updated_at=timezone.now())
            if changed:
                emit(
                    events.KYC_EXPIRED,
                    aggregate_type=PARTNER_AGGREGATE,
                    aggregate_id=pk,
                    organization_id=organization_id,
                    partner_id=pk,
                    payload={"kyc_expires_on": str(expires_on)},
                )
                expired += 1
    return expired


def reminder_threshold(days_left: int, thresholds: tuple[int, ...]) -> int | None:
    """The tightest threshold reached: with (90, 60, 30, 7) and 45 days left, 60."""
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def _send_reminders(today: date) -> int:
    """For each VERIFIED partner expiring within the largest threshold, one KycReminder row for
    the tightest threshold reached; the unique (partner, expiry date, threshold) constraint
    decides who inserts it, and only the inserter emits partners.kyc.expiring. The partner row is
    held FOR SHARE meanwhile, so a concurrent renewal cannot leave a reminder about an expiry
    date that no longer holds (a row a writer holds is skipped until the next sweep)."""
    thresholds = tuple(int(t) for t in settings.PARTNERS_KYC_REMINDER_DAYS)
    if not thresholds:
        return 0
    candidates = list(
        BusinessPartner.objects.filter(
            kyc_status=KycStatus.VERIFIED,
            kyc_expires_on__gte=today,
            kyc_expires_on__lte=today + timedelta(days=max(thresholds)),
        ).values_list("pk", "kyc_expires_on")
    )
    already = set(
        KycReminder.objects.filter(partner_id__in=[pk for pk, _ in candidates], kyc_expires_on__gte=today).values_list(
            "partner_id", "kyc_expires_on", "days_before"
        )
    )
    sent = 0
    for pk, expires_on in candidates:
        assert expires_on is not None  # filtered on kyc_expires_on above
        threshold = reminder_threshold((expires_on - today).days, thresholds)
        if threshold is None or (pk, expires_on, threshold) in already:
            continue
        with transaction.atomic():
            organization_id = _share_lock_if_unchanged(pk, expires_on)
            if organization_id is None:
                continue
            _, created = KycReminder.objects.get_or_create(
                partner_id=pk, kyc_expires_on=expires_on, days_before=threshold
            )
            if created:
                emit(
                    events.KYC_EXPIRING,
                    aggregate_type=PARTNER_AGGREGATE,
                    aggregate_id=pk,
                    organization_id=organization_id,
                    partner_id=pk,
                    payload={"days_before": threshold, "kyc_expires_on": str(expires_on)},
                )
                sent += 1
    return sent


def _share_lock_if_unchanged(partner_id: UUID, expires_on: date) -> Any:
    """The partner's organization id, holding its row FOR SHARE, if its KYC is still VERIFIED
    with that expiry date; None if it changed or a writer holds the row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT organization_id FROM partners_businesspartner "
            "WHERE id = %s AND kyc_status = %s AND kyc_expires_on = %s FOR SHARE SKIP LOCKED",
            [partner_id, KycStatus.VERIFIED.value, expires_on],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _expire_documents(today: date) -> int:
    """A partner's PENDING or VERIFIED documents past their expiry date -> EXPIRED, under the
    partner's row lock, then its capabilities are recomputed. Emits partners.document.expired."""
    lapsed = PartnerDocument.objects.filter(
        partner__isnull=False,
        status__in=[DocumentStatus.PENDING, DocumentStatus.VERIFIED],
        expires_on__lt=today,
    )
    expired = 0
    for partner_id in set(lapsed.values_list("partner_id", flat=True)):
        with transaction.atomic():
            partner = lock_partner(partner_id)
            documents = list(lapsed.filter(partner_id=partner_id).select_for_update().order_by("created_at", "id"))
            for document in documents:
                document.status = DocumentStatus.EXPIRED
                document.save(update_fields=["status", "updated_at"])
                emit(
                    events.DOCUMENT_EXPIRED,
                    aggregate=partner,
                    partner_id=partner.pk,
                    payload={
                        "partner_id": str(partner.pk),
                        "document_id": str(document.pk),
                        "document_type": document.document_type,
                        "expires_on": str(document.expires_on),
                    },
                )
            expired += len(documents)
            if documents:
                partner_recompute_capabilities(partner, reason="documents expired", today=today)
    return expired
