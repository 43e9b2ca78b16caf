"""`seed_demo`'s partners: a dozen approved partners in both organizations, insiders, a queue."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.events.models import OutboxEvent
from apps.partners.insiders import insider_relationship
from apps.partners.models import ApplicationState, BusinessPartner, OnboardingApplication, PartnerMembership

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_approves_a_dozen_partners_across_both_organizations_once():
    _seed()
    first = set(BusinessPartner.objects.values_list("id", flat=True))
    _seed()

    assert set(BusinessPartner.objects.values_list("id", flat=True)) == first
    by_org = sorted(BusinessPartner.objects.values_list("organization__code", "code", "legal_name"))
    assert [row[0] for row in by_org].count("SCH") == 8
    assert [row[0] for row in by_org].count("DFT") == 4
    assert [row[1] for row in by_org if row[0] == "DFT"] == ["BP-000001", "BP-000002", "BP-000003", "BP-000004"]
    assert sorted(BusinessPartner.objects.exclude(service_type="").values_list("service_type", flat=True)) == [
        "BROKER",
        "TRANSPORTER",
    ]
    assert PartnerMembership.objects.filter(role="OWNER", is_active=True).count() == 12
    assert sorted(PartnerMembership.objects.exclude(role="OWNER").values_list("role", flat=True)) == [
        "TRADER",
        "TRADER",
        "TRADER",
        "VIEWER",
    ]
    assert OutboxEvent.objects.filter(type="partners.application.approved").count() == 12


def test_the_two_kadi_partners_are_insiders_and_others_are_not():
    _seed()
    industries = BusinessPartner.objects.get(legal_name="Kadi Cotton Industries")
    exports = BusinessPartner.objects.get(legal_name="Kadi Cotton Exports Private Limited")
    rajkot = BusinessPartner.objects.get(legal_name="Shree Rajkot Ginning Private Limited")

    assert insider_relationship(industries, exports) == "same_corporate_group"
    assert insider_relationship(industries, rajkot) is None


def test_three_applications_wait_in_the_sch_queue_at_different_stages():
    _seed()

    waiting = dict(
        OnboardingApplication.objects.filter(organization__code="SCH")
        .exclude(state=ApplicationState.APPROVED)
        .values_list("legal_name", "state")
    )
    assert waiting == {
        "Jalna Cotton Company": "SUBMITTED",
        "Bhiwandi Yarn Traders Private Limited": "UNDER_REVIEW",
        "Khandwa Agro Ginners": "INFO_REQUESTED",
    }
    under_review = OnboardingApplication.objects.get(legal_name="Bhiwandi Yarn Traders Private Limited")
    assert sorted(under_review.documents.values_list("status", flat=True)) == ["PENDING", "VERIFIED", "VERIFIED"]


def test_demo_partners_have_branches_in_other_states_and_the_transporter_its_lorries():
    _seed()
    akola = BusinessPartner.objects.get(legal_name="Akola Cotton Processors Private Limited")
    transporter = BusinessPartner.objects.get(legal_name="Gujarat Cotton Roadways")

    assert sorted(akola.branches.values_list("code", "state_code")) == [("HO", "27"), ("WH-ADB", "36")]
    adilabad = akola.branches.get(code="WH-ADB")
    assert (adilabad.gstin[:2], adilabad.gstin[2:12]) == ("36", akola.pan)
    assert sorted(transporter.vehicles.values_list("registration_number", flat=True)) == ["GJ01AB4321", "GJ03CT7788"]


def test_the_submitted_application_is_assigned_to_the_kyc_officer():
    _seed()
    jalna = OnboardingApplication.objects.get(legal_name="Jalna Cotton Company")

    assert jalna.assigned_to.email == "kyc.officer@sch.cotton-erp.test"
