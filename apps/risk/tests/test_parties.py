"""Party links between two partners: PAN/GSTIN and insiders FAIL; mobile, bank account and a
company e-mail domain WARN; free-mail domains link nobody."""

from __future__ import annotations

from typing import Any

import pytest

from apps.partners.models import BusinessPartner, CorporateGroup
from apps.partners.tests import factories as partner_factories
from apps.risk.models import FreeMailDomain
from apps.risk.selectors import party_check, party_check_many

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _free_mail_domains() -> None:
    """The free-mail list is data a migration writes; a transactional test that ran earlier on this
    xdist worker flushed every table, so the tests that rely on gmail.com being free mail put it
    back (the order the full suite runs in made one of them fail)."""
    FreeMailDomain.objects.get_or_create(domain="gmail.com")


def _set(partner: Any, **fields: Any) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(**fields)


def _codes(check: Any) -> list[str]:
    return [f["code"] for f in check.factors]


def test_unrelated_partners_pass(buyer: Any, seller: Any) -> None:
    _set(buyer, contact_email="accounts@mills.example", contact_phone="+919800000001")
    _set(seller, contact_email="office@ginning.example", contact_phone="+919800000002")

    check = party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk)

    assert (check.result, check.factors) == ("PASS", [])


def test_the_same_pan_fails(buyer: Any, seller: Any) -> None:
    _set(seller, pan=buyer.pan)

    check = party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk)

    assert check.result == "FAIL"
    assert _codes(check) == ["same_pan"]
    assert check.factors[0] == {"code": "same_pan", "detail": "Both partners have the same PAN.", "result": "FAIL"}


def test_the_same_gstin_fails(buyer: Any, seller: Any) -> None:
    _set(seller, status="SUSPENDED")  # an active GSTIN is unique among active partners
    _set(seller, gstin=buyer.gstin)

    check = party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk)

    assert (check.result, _codes(check)) == ("FAIL", ["same_gstin"])


def test_insiders_fail(buyer: Any, seller: Any, organization: Any) -> None:
    group = CorporateGroup.objects.create(organization=organization, name="Shree Group")
    _set(buyer, corporate_group=group)
    _set(seller, corporate_group=group)

    check = party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk)

    assert (check.result, _codes(check)) == ("FAIL", ["insider_same_corporate_group"])


def test_master_and_branch_fail(buyer: Any, seller: Any) -> None:
    _set(seller, master_partner=buyer)

    check = party_check(partner_a_id=seller.pk, partner_b_id=buyer.pk)

    assert (check.result, _codes(check)) == ("FAIL", ["insider_master_and_branch"])


def test_the_same_mobile_bank_account_and_company_domain_warn(buyer: Any, seller: Any) -> None:
    shared = {
        "contact_phone": "+919812345678",
        "bank_account_number": "123456789012",
        "bank_ifsc": "SBIN0001234",
    }
    _set(buyer, contact_email="accounts@shreegroup.example", **shared)
    _set(seller, contact_email="ops@ShreeGroup.example", **shared)

    check = party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk)

    assert (check.result, _codes(check)) == ("WARN", ["same_mobile", "same_bank_account", "same_email_domain"])


def test_a_shared_free_mail_domain_links_nobody(buyer: Any, seller: Any) -> None:
    _set(buyer, contact_email="mill.owner@gmail.com", contact_phone="+919800000001")
    _set(seller, contact_email="ginner@gmail.com", contact_phone="+919800000002")

    assert party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk).result == "PASS"


def test_the_same_account_number_at_another_bank_is_no_link(buyer: Any, seller: Any) -> None:
    _set(buyer, bank_account_number="123456789012", bank_ifsc="SBIN0001234", contact_phone="+919800000001")
    _set(seller, bank_account_number="123456789012", bank_ifsc="HDFC0001234", contact_phone="+919800000002")
    _set(seller, contact_email="x@other.example")

    assert party_check(partner_a_id=buyer.pk, partner_b_id=seller.pk).result == "PASS"


def test_party_check_many_answers_any_number_of_others_in_two_queries(
    buyer: Any, seller: Any, organization: Any, django_assert_num_queries: Any
) -> None:
    others = [
        partner_factories.approved_partner(
            organization,
            contact_email=f"desk@trader{n}.example",
            contact_phone=f"+91980000030{n}",
            bank_account_number=f"10000000030{n}",
        )
        for n in range(3)
    ]
    _set(buyer, contact_email="a@gmail.com", contact_phone="+919800000001")
    _set(seller, pan=buyer.pan)
    _set(others[0], contact_phone="+919800000001")
    for other in others[1:]:
        _set(other, contact_email="b@gmail.com")

    with django_assert_num_queries(2):
        checks = party_check_many(partner_id=buyer.pk, other_ids=[seller.pk, *(o.pk for o in others)])

    assert {pk: c.result for pk, c in checks.items()} == {
        seller.pk: "FAIL",
        others[0].pk: "WARN",
        others[1].pk: "PASS",
        others[2].pk: "PASS",
    }
