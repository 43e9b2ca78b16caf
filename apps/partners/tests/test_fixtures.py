"""The shared partner fixtures are what the other tests assume they are."""

from __future__ import annotations

from apps.partners.models import KycStatus, MembershipRole, PartnerStatus


def test_an_approved_partner_has_its_owner_and_rights(partner, owner, trader, viewer):
    assert (partner.code, partner.status, partner.kyc_status) == ("BP-000001", PartnerStatus.ACTIVE, KycStatus.VERIFIED)
    assert owner.partner_membership.role == MembershipRole.OWNER
    assert owner.has_perm("partners.change_businesspartner", partner)
    assert trader.has_perm("partners.trade_for_partner", partner)
    assert not trader.has_perm("partners.change_businesspartner", partner)
    assert viewer.has_perm("partners.view_businesspartner", partner)
    assert not viewer.has_perm("partners.trade_for_partner", partner)


def test_other_partners_are_distinct_and_scoped(partner, other_partner, foreign_partner):
    assert other_partner.organization_id == partner.organization_id
    assert foreign_partner.organization_id != partner.organization_id
    assert len({partner.pan, other_partner.pan, foreign_partner.pan}) == 3
    assert not other_partner.owner.has_perm("partners.view_businesspartner", partner)
