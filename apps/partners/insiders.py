"""Insider relationships (SPEC section 6), read by risk and matching: two partners may not trade
with each other when they are the same partner, one is the master of the other or both share a
master, they share a corporate group, or they share a PAN or GSTIN.

The facts live on BusinessPartner (`master_partner`, `corporate_group`, `pan`, `gstin`); no link
table. Relationships are direct, never transitive (a group member's branch is not an insider of
the group unless it is in the group itself), and only within one organization: partners of two
organizations are never insiders of each other. The master hierarchy has one level
(services.groups refuses a master that has a master), so "share a master" is exact.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from apps.partners.models import BusinessPartner

SAME_PARTNER = "same_partner"
MASTER_AND_BRANCH = "master_and_branch"
SAME_MASTER = "same_master"
SAME_CORPORATE_GROUP = "same_corporate_group"
SAME_GSTIN = "same_gstin"
SAME_PAN = "same_pan"

INSIDER_REASONS = (SAME_PARTNER, MASTER_AND_BRANCH, SAME_MASTER, SAME_CORPORATE_GROUP, SAME_GSTIN, SAME_PAN)


def insider_relationship(partner_a: BusinessPartner, partner_b: BusinessPartner) -> str | None:
    """Why the two partners are insiders of each other (a reason code above), or None.

    Symmetric, and free of queries (it reads the fields of the two instances). When several
    reasons hold, the first in INSIDER_REASONS is given: a shared GSTIN before a shared PAN, as a
    GSTIN contains its PAN. Blank PANs and GSTINs (foreign entities) match nothing."""
    if partner_a.pk == partner_b.pk:
        return SAME_PARTNER
    if partner_a.organization_id != partner_b.organization_id:
        return None
    if partner_a.master_partner_id == partner_b.pk or partner_b.master_partner_id == partner_a.pk:
        return MASTER_AND_BRANCH
    if partner_a.master_partner_id is not None and partner_a.master_partner_id == partner_b.master_partner_id:
        return SAME_MASTER
    if partner_a.corporate_group_id is not None and partner_a.corporate_group_id == partner_b.corporate_group_id:
        return SAME_CORPORATE_GROUP
    if partner_a.gstin and partner_a.gstin == partner_b.gstin:
        return SAME_GSTIN
    if partner_a.pan and partner_a.pan == partner_b.pan:
        return SAME_PAN
    return None


def are_insiders(partner_a: BusinessPartner, partner_b: BusinessPartner) -> bool:
    return insider_relationship(partner_a, partner_b) is not None


def _insider_condition(partner: BusinessPartner) -> Q:
    condition = Q(master_partner_id=partner.pk)  # its branches
    if partner.master_partner_id is not None:
        condition |= Q(pk=partner.master_partner_id) | Q(master_partner_id=partner.master_partner_id)
    if partner.corporate_group_id is not None:
        condition |= Q(corporate_group_id=partner.corporate_group_id)
    if partner.pan:
        condition |= Q(pan=partner.pan)
    if partner.gstin:
        condition |= Q(gstin=partner.gstin)
    return condition


def insiders_of(partner: BusinessPartner) -> QuerySet[BusinessPartner]:
    """Every other partner of the same organization that is an insider of `partner` (any
    status): its master and branches, its master's other branches, its corporate group, and
    partners sharing its PAN or GSTIN. One query when evaluated."""
    return (
        BusinessPartner.objects.filter(organization_id=partner.organization_id)
        .filter(_insider_condition(partner))
        .exclude(pk=partner.pk)
    )


def insider_ids_of(partner: BusinessPartner) -> set[UUID]:
    """The ids of `insiders_of(partner)` (one query), for matching to exclude counterparties."""
    return set(insiders_of(partner).values_list("pk", flat=True))
