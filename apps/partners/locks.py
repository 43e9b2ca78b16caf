"""Row locks of partners (SELECT ... FOR UPDATE; call inside transaction.atomic()).

Lock order: the partner row first (it serialises every write of the partner's profile, branches,
vehicles, employees, documents, capabilities, status and amendments), then the rows it changes.
"""

from __future__ import annotations

from uuid import UUID

from apps.partners.errors import PartnerNotFound
from apps.partners.models import BusinessPartner


def lock_partner(partner_id: UUID) -> BusinessPartner:
    """SELECT ... FOR UPDATE of the partner (404 partner_not_found when there is none): the first
    lock of every partner write."""
    partner = BusinessPartner.objects.select_for_update().filter(pk=partner_id).first()
    if partner is None:
        raise PartnerNotFound()
    return partner
