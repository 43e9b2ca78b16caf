"""Demo risk data (runs after the trade desk's seeder): a credit row for every demo partner (its
limit from the partner's onboarding credit limit), demo contracted exposure spreading the
partners with a limit over the utilisation bands, and one limit increase waiting for a second
person's approval per organization, so the risk dashboard has something in each place.

The bands are handed out so the demo's own deals still go through: a partner that posts nothing
takes the highest (102%, CRITICAL, then 95%, 80%, 60%), a seller at most 40% (a trade books the
seller's exposure too, SPEC 10, and the seller check of matching refuses a seller whose exposure
after the deal would pass its limit: at 95% the demo's sellers lost 8 of the 11 demo proposals
once their demo trades were booked), and a buyer 30% (its requirements match and its demo
negotiations can be accepted). The trade desk's seeder tells who buys and who sells
(`report.context`; risk may not import the trade desk).

Everything goes through the services (exposure_book, credit_limit_set), so the alerts and events
are the real ones. The demo exposure is booked against source type `demo` with an id derived
from the partner, so a second run finds it open and books nothing (idempotent), and a second run
requests no second limit change.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from apps.accounts.models import User, UserType
from apps.accounts.roles import Role
from apps.core.seeding import SeedReport
from apps.organizations.models import Organization
from apps.partners.models import BusinessPartner
from apps.risk.locks import lock_credit_account
from apps.risk.models import CreditAccount, ExposureEntry, ExposureStage, LimitChange, UtilisationLevel
from apps.risk.rules import level_for
from apps.risk.services.exposure import exposure_book
from apps.risk.services.limits import credit_limit_set
from apps.risk.services.settings import risk_settings_for

DEMO_SOURCE = "demo"
_NAMESPACE = uuid.UUID("6f1d8a52-9a8e-4c55-b0a4-1f3a9c1e7d11")
IDLE_TARGETS = (Decimal("1.02"), Decimal("0.95"), Decimal("0.80"), Decimal("0.60"))
SELLER_TARGETS = (Decimal("0.40"), Decimal("0.30"), Decimal("0.20"))
BUYER_TARGET = Decimal("0.30")


def demo_source_id(partner_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, str(partner_id))


def _targets(
    partners: list[BusinessPartner], buyers: set[uuid.UUID], sellers: set[uuid.UUID]
) -> dict[uuid.UUID, Decimal]:
    targets: dict[uuid.UUID, Decimal] = {}
    idle = [p for p in partners if p.pk not in buyers and p.pk not in sellers]
    selling = [p for p in partners if p.pk in sellers and p.pk not in buyers]
    for index, partner in enumerate(idle):
        targets[partner.pk] = IDLE_TARGETS[index % len(IDLE_TARGETS)]
    for index, partner in enumerate(selling):
        targets[partner.pk] = SELLER_TARGETS[index % len(SELLER_TARGETS)]
    for partner in partners:
        targets.setdefault(partner.pk, BUYER_TARGET)
    return targets


def _seed_organization(organization: Organization, buyers: set[uuid.UUID], sellers: set[uuid.UUID]) -> None:
    partners = list(BusinessPartner.objects.filter(organization=organization).order_by("code"))
    for partner in partners:
        with transaction.atomic():
            lock_credit_account(partner.pk)
    with_limit = [p for p in partners if p.credit_limit > 0]
    targets = _targets(with_limit, buyers, sellers)
    for partner in with_limit:
        target = targets[partner.pk]
        with transaction.atomic():
            account = lock_credit_account(partner.pk)
            amount = (Decimal(account.credit_limit) * target - Decimal(account.exposure)).quantize(Decimal("0.01"))
            if amount > 0:
                exposure_book(
                    partner_id=partner.pk,
                    stage=ExposureStage.CONTRACTED,
                    amount=amount,
                    source_type=DEMO_SOURCE,
                    source_id=demo_source_id(partner.pk),
                )
    officer = User.objects.filter(
        organization=organization, groups__name=Role.RISK_OFFICER, user_type=UserType.INTERNAL
    ).first()
    if officer is None or not with_limit:
        return
    first = with_limit[0]
    if LimitChange.objects.filter(partner_id=first.pk).exists():
        return
    account = CreditAccount.objects.get(partner_id=first.pk)
    threshold = risk_settings_for(first.organization_id).risk_limit_approval_threshold
    credit_limit_set(
        actor=officer,
        partner_id=first.pk,
        credit_limit=Decimal(account.credit_limit) + Decimal(threshold) + Decimal("1000000"),
        reason="Demo: the mill doubles its season's buying; needs a second officer's approval.",
    )


def seed_risk(report: SeedReport) -> None:
    buyers: set[uuid.UUID] = report.context.get("demo_buyer_ids", set())
    sellers: set[uuid.UUID] = report.context.get("demo_seller_ids", set())
    for organization in report.context["organizations"]:
        _seed_organization(organization, buyers, sellers)
    # The same line on every run (seed_demo's output is compared between runs): the bands the
    # demo's own exposure puts the partners in. The live levels move once the demo's trades book
    # both parties' exposure (a later seeder, and on a second run already before this line).
    demo = dict(
        ExposureEntry.objects.filter(source_type=DEMO_SOURCE, released_at__isnull=True)
        .values("partner_id")
        .annotate(total=Sum("amount"))
        .values_list("partner_id", "total")
    )
    counts = dict.fromkeys(UtilisationLevel.values, 0)
    for partner_id, credit_limit in CreditAccount.objects.values_list("partner_id", "credit_limit"):
        counts[level_for(demo.get(partner_id, Decimal(0)), Decimal(credit_limit))] += 1
    bands = ", ".join(f"{count} {level}" for level, count in counts.items())
    pending = LimitChange.objects.filter(status="PENDING").count()
    report.lines.append(f"risk: credit rows by band: {bands}; {pending} limit changes awaiting approval")
