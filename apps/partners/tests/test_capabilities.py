"""Trading capabilities: derived from verified documents, overridden by staff with a reason."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.apps import apps

from apps.core.errors import DomainError
from apps.core.tests.clients import staff_client
from apps.events.models import OutboxEvent
from apps.partners.capability_rules import derive_capabilities, trading_refusal
from apps.partners.models import BusinessPartner, KycStatus, PartnerDocument, PartnerStatus
from apps.partners.services.capabilities import partner_override_capabilities
from apps.partners.services.documents import partner_document_upload, partner_document_verify
from apps.partners.tests.factories import pdf_upload

CHANGED = "partners.partner.capabilities_changed"
NONE = {"buy": False, "sell": False, "import": False, "export": False}
DOMESTIC = {"buy": True, "sell": True, "import": False, "export": False}
EVERYTHING = {"buy": True, "sell": True, "import": True, "export": True}
CROSS_BORDER = {"buy": False, "sell": False, "import": True, "export": True}


# --- derivation (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_class", "business_type", "documents", "expected"),
    [
        ("BUSINESS_ENTITY", "PRIVATE_LIMITED", {"GST_CERTIFICATE", "PAN_CARD"}, DOMESTIC),
        ("BUSINESS_ENTITY", "PROPRIETORSHIP", {"GST_CERTIFICATE", "PAN_CARD", "CANCELLED_CHEQUE"}, DOMESTIC),
        ("BUSINESS_ENTITY", "PARTNERSHIP", {"GST_CERTIFICATE", "PAN_CARD", "IEC"}, EVERYTHING),
        ("BUSINESS_ENTITY", "PRIVATE_LIMITED", {"GST_CERTIFICATE"}, NONE),
        ("BUSINESS_ENTITY", "PRIVATE_LIMITED", {"PAN_CARD", "CANCELLED_CHEQUE"}, NONE),
        ("BUSINESS_ENTITY", "PRIVATE_LIMITED", {"PAN_CARD", "IEC"}, NONE),
        ("BUSINESS_ENTITY", "PRIVATE_LIMITED", set(), NONE),
        ("BUSINESS_ENTITY", "FOREIGN_ENTITY", {"FOREIGN_TAX_ID", "TRADE_LICENCE"}, CROSS_BORDER),
        ("BUSINESS_ENTITY", "FOREIGN_ENTITY", {"FOREIGN_TAX_ID"}, NONE),
        ("BUSINESS_ENTITY", "FOREIGN_ENTITY", {"TRADE_LICENCE"}, NONE),
        ("BUSINESS_ENTITY", "FOREIGN_ENTITY", {"GST_CERTIFICATE", "PAN_CARD", "IEC"}, NONE),
        ("SERVICE_PROVIDER", "PROPRIETORSHIP", {"GST_CERTIFICATE", "PAN_CARD", "IEC"}, NONE),
        ("SERVICE_PROVIDER", "FOREIGN_ENTITY", {"FOREIGN_TAX_ID", "TRADE_LICENCE"}, NONE),
    ],
)
def test_capabilities_follow_the_verified_documents(
    entity_class: str, business_type: str, documents: set[str], expected: dict[str, bool]
) -> None:
    derived = derive_capabilities(
        entity_class=entity_class, business_type=business_type, verified_document_types=documents
    )

    assert derived == expected


def _partner_like(**fields: Any) -> Any:
    defaults: dict[str, Any] = {
        "status": PartnerStatus.ACTIVE,
        "kyc_status": KycStatus.VERIFIED,
        "kyc_expires_on": datetime.date(2027, 1, 31),
        "trading_capabilities": DOMESTIC,
    }
    return BusinessPartner(**{**defaults, **fields})


def test_trading_needs_an_active_partner_valid_kyc_and_the_capability() -> None:
    today = datetime.date(2027, 1, 31)

    assert trading_refusal(_partner_like(), "buy", today=today) is None
    assert trading_refusal(_partner_like(), "import", today=today) == "capability_missing"
    assert trading_refusal(_partner_like(), "sell", today=today + datetime.timedelta(days=1)) == "kyc_not_valid"
    assert trading_refusal(_partner_like(kyc_status=KycStatus.EXPIRED), "buy", today=today) == "kyc_not_valid"
    assert trading_refusal(_partner_like(status=PartnerStatus.SUSPENDED), "buy", today=today) == "partner_not_active"
    assert trading_refusal(_partner_like(trading_capabilities={}), "buy", today=today) == "capability_missing"
    with pytest.raises(ValueError, match="not a trading capability"):
        trading_refusal(_partner_like(), "lend", today=today)


# --- approval and recompute --------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_derives_capabilities_from_the_verified_onboarding_documents(partner: BusinessPartner) -> None:
    partner.refresh_from_db()

    assert partner.derived_capabilities == DOMESTIC
    assert partner.trading_capabilities == DOMESTIC
    assert partner.capabilities_override is None
    assert partner.kyc_verified_at is not None
    event = OutboxEvent.objects.get(type=CHANGED, partner_id=partner.pk)
    assert event.payload == {"derived": DOMESTIC, "override": None, "effective": DOMESTIC, "reason": "approval"}


@pytest.mark.django_db
def test_a_verified_iec_adds_import_and_export(partner: BusinessPartner, owner: Any, kyc_officer: Any) -> None:
    document = partner_document_upload(actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload())
    partner.refresh_from_db()
    assert partner.trading_capabilities == DOMESTIC  # pending documents grant nothing

    partner_document_verify(actor=kyc_officer, document_id=document.pk)

    partner.refresh_from_db()
    assert partner.derived_capabilities == EVERYTHING
    assert partner.trading_capabilities == EVERYTHING
    event = OutboxEvent.objects.filter(type=CHANGED, partner_id=partner.pk).order_by("position").last()
    assert event is not None
    assert event.actor_id == kyc_officer.pk
    assert event.payload == {
        "derived": EVERYTHING,
        "override": None,
        "effective": EVERYTHING,
        "reason": "IEC verified",
    }


# --- override ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_override_wins_over_the_derived_set_and_is_emitted(partner: BusinessPartner, director: Any) -> None:
    before = OutboxEvent.objects.filter(type=CHANGED).count()

    partner_override_capabilities(
        actor=director, partner_id=partner.pk, capabilities=NONE, reason="Cheque bounced; hold all trading"
    )

    partner.refresh_from_db()
    assert (partner.derived_capabilities, partner.capabilities_override, partner.trading_capabilities) == (
        DOMESTIC,
        NONE,
        NONE,
    )
    assert partner.capabilities_override_reason == "Cheque bounced; hold all trading"
    events = OutboxEvent.objects.filter(type=CHANGED).order_by("position")
    assert events.count() == before + 1
    last = events.last()
    assert last is not None
    assert last.actor_id == director.pk
    assert last.payload == {
        "derived": DOMESTIC,
        "override": NONE,
        "effective": NONE,
        "reason": "Cheque bounced; hold all trading",
    }
    history = apps.get_model("partners", "BusinessPartnerEvent").objects.filter(pgh_obj_id=partner.pk)
    assert history.order_by("pgh_id").values_list("capabilities_override_reason", flat=True).last() == (
        "Cheque bounced; hold all trading"
    )


@pytest.mark.django_db
def test_clearing_the_override_goes_back_to_the_derived_set(partner: BusinessPartner, director: Any) -> None:
    partner_override_capabilities(actor=director, partner_id=partner.pk, capabilities=EVERYTHING, reason="Licence seen")

    partner_override_capabilities(actor=director, partner_id=partner.pk, capabilities=None, reason="Licence lapsed")

    partner.refresh_from_db()
    assert (partner.capabilities_override, partner.trading_capabilities) == (None, DOMESTIC)
    assert partner.capabilities_override_reason == "Licence lapsed"
    last = OutboxEvent.objects.filter(type=CHANGED).order_by("position").last()
    assert last is not None
    assert last.payload == {"derived": DOMESTIC, "override": None, "effective": DOMESTIC, "reason": "Licence lapsed"}


@pytest.mark.django_db
def test_an_override_equal_to_the_effective_set_is_stored_but_not_emitted(
    partner: BusinessPartner, director: Any
) -> None:
    before = OutboxEvent.objects.filter(type=CHANGED).count()

    partner_override_capabilities(actor=director, partner_id=partner.pk, capabilities=DOMESTIC, reason="Pinned")

    partner.refresh_from_db()
    assert partner.capabilities_override == DOMESTIC
    assert OutboxEvent.objects.filter(type=CHANGED).count() == before


@pytest.mark.django_db
def test_with_an_override_a_new_document_changes_derived_but_not_effective(
    partner: BusinessPartner, owner: Any, director: Any, kyc_officer: Any
) -> None:
    partner_override_capabilities(actor=director, partner_id=partner.pk, capabilities=NONE, reason="On hold")
    before = OutboxEvent.objects.filter(type=CHANGED).count()
    document = partner_document_upload(actor=owner, partner_id=partner.pk, document_type="IEC", file=pdf_upload())

    partner_document_verify(actor=kyc_officer, document_id=document.pk)

    partner.refresh_from_db()
    assert (partner.derived_capabilities, partner.trading_capabilities) == (EVERYTHING, NONE)
    assert OutboxEvent.objects.filter(type=CHANGED).count() == before


def _assert_unchanged(partner: BusinessPartner, events_before: int) -> None:
    row = BusinessPartner.objects.get(pk=partner.pk)
    assert (row.capabilities_override, row.capabilities_override_reason, row.trading_capabilities) == (
        None,
        "",
        DOMESTIC,
    )
    assert OutboxEvent.objects.filter(type=CHANGED).count() == events_before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("capabilities", "reason", "code", "attr"),
    [
        (NONE, "", "required", "reason"),
        (NONE, "   ", "required", "reason"),
        (None, "", "required", "reason"),
        ({"buy": True, "sell": True}, "Partial", "invalid", "capabilities"),
        ({**NONE, "lend": True}, "Extra key", "invalid", "capabilities"),
        ({**NONE, "buy": "yes"}, "Not a boolean", "invalid", "capabilities"),
    ],
)
def test_an_override_without_a_reason_or_with_a_bad_set_is_refused(
    partner: BusinessPartner, director: Any, capabilities: Any, reason: str, code: str, attr: str
) -> None:
    before = OutboxEvent.objects.filter(type=CHANGED).count()

    with pytest.raises(DomainError) as refused:
        partner_override_capabilities(actor=director, partner_id=partner.pk, capabilities=capabilities, reason=reason)

    assert refused.value.status == 400
    assert [(e["attr"], e["code"]) for e in refused.value.errors] == [(attr, code)]
    _assert_unchanged(partner, before)


@pytest.mark.django_db
def test_only_staff_with_the_override_capability_of_the_organization_may_override(
    partner: BusinessPartner, kyc_officer: Any, desk_manager: Any, other_org_staff: Any, owner: Any
) -> None:
    before = OutboxEvent.objects.filter(type=CHANGED).count()
    outcomes = []
    for actor in (kyc_officer, desk_manager, other_org_staff, owner):
        with pytest.raises(DomainError) as refused:
            partner_override_capabilities(actor=actor, partner_id=partner.pk, capabilities=NONE, reason="Try")
        outcomes.append((refused.value.status, refused.value.code))

    assert outcomes == [
        (403, "permission_denied"),
        (403, "permission_denied"),
        (404, "partner_not_found"),
        (404, "partner_not_found"),
    ]
    _assert_unchanged(partner, before)


# --- admin ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_overrides_and_clears_capabilities(partner: BusinessPartner, director: Any) -> None:
    client = staff_client(director)
    url = f"/admin/partners/businesspartner/{partner.pk}/actions/override_capabilities/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"buy": "on", "reason": "Buy only until the GST query is settled"})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.trading_capabilities == {"buy": True, "sell": False, "import": False, "export": False}

    response = client.post(url, {"clear": "on", "sell": "on", "reason": "Settled"})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.capabilities_override, partner.trading_capabilities) == (None, DOMESTIC)


@pytest.mark.django_db
def test_the_admin_reports_a_refused_override_and_changes_nothing(partner: BusinessPartner, kyc_officer: Any) -> None:
    before = OutboxEvent.objects.filter(type=CHANGED).count()
    client = staff_client(kyc_officer)

    response = client.post(
        f"/admin/partners/businesspartner/{partner.pk}/actions/override_capabilities/",
        {"reason": "Not mine to do"},
        follow=True,
    )

    # The form again, the refusal on it (issue 17).
    assert "This needs the partners.override_capabilities capability. (permission_denied)" in response.content.decode()
    _assert_unchanged(partner, before)


@pytest.mark.django_db
def test_documents_of_the_partner_are_shown_on_its_admin_page(partner: BusinessPartner, kyc_officer: Any) -> None:
    response = staff_client(kyc_officer).get(f"/admin/partners/businesspartner/{partner.pk}/change/")

    assert response.status_code == 200
    assert PartnerDocument.objects.filter(partner=partner).count() == 3
    assert response.content.decode().count("GST certificate") >= 1
