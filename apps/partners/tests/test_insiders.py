"""SPEC section 6, insider relationships: two partners may not trade with each other when they
are the same partner, one is the master of the other or both share a master, they share a
corporate group, or they share a PAN or GSTIN. And the back-office services that set masters
and corporate groups (services.groups), with their admin screens."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import PermissionDenied
from apps.core.tests.clients import staff_client
from apps.events.models import OutboxEvent
from apps.organizations.errors import FieldInvalid
from apps.organizations.validators import gstin_check_char
from apps.partners import events
from apps.partners.errors import (
    CorporateGroupNameTaken,
    CorporateGroupNotFound,
    MasterHasMaster,
    MasterIsSelf,
    MasterPartnerNotFound,
    PartnerHasBranches,
    PartnerNotFound,
)
from apps.partners.insiders import (
    INSIDER_REASONS,
    insider_ids_of,
    insider_relationship,
    insiders_of,
)
from apps.partners.models import BusinessPartner, CorporateGroup, PartnerStatus
from apps.partners.services.groups import (
    corporate_group_create,
    corporate_group_rename,
    partner_set_corporate_group,
    partner_set_master,
)
from apps.partners.tests import factories

pytestmark = pytest.mark.django_db


def _updated_events() -> list[dict[str, Any]]:
    return list(
        OutboxEvent.objects.filter(type=events.PARTNER_UPDATED).order_by("position").values_list("payload", flat=True)
    )


def _fresh(*partners: BusinessPartner) -> list[BusinessPartner]:
    for partner in partners:
        partner.refresh_from_db()
    return list(partners)


def _group(organization: Any, name: str = "Kadi group") -> CorporateGroup:
    return CorporateGroup.objects.create(organization=organization, name=name)


def _link(branch: BusinessPartner, master: BusinessPartner | None) -> None:
    BusinessPartner.objects.filter(pk=branch.pk).update(master_partner=master)
    branch.refresh_from_db()


def _other_state_gstin(pan: str, state: str = "27") -> str:
    base = state + pan + "1Z"
    return base + gstin_check_char(base)


@pytest.fixture
def third_partner(organization: Any) -> BusinessPartner:
    return factories.approved_partner(organization)


# --- insider_relationship: every reason, both ways ----------------------------------------------


def test_a_partner_is_its_own_insider(partner: BusinessPartner) -> None:
    assert insider_relationship(partner, partner) == "same_partner"


def test_unrelated_partners_of_one_organization_are_not_insiders(
    partner: BusinessPartner, other_partner: BusinessPartner
) -> None:
    assert insider_relationship(partner, other_partner) is None
    assert insider_relationship(other_partner, partner) is None


def test_a_master_and_its_branch_are_insiders_both_ways(
    partner: BusinessPartner, other_partner: BusinessPartner
) -> None:
    _link(other_partner, partner)

    assert insider_relationship(partner, other_partner) == "master_and_branch"
    assert insider_relationship(other_partner, partner) == "master_and_branch"


def test_two_branches_of_one_master_are_insiders(
    partner: BusinessPartner, other_partner: BusinessPartner, third_partner: BusinessPartner
) -> None:
    _link(other_partner, partner)
    _link(third_partner, partner)

    assert insider_relationship(other_partner, third_partner) == "same_master"
    assert insider_relationship(third_partner, other_partner) == "same_master"


def test_members_of_one_corporate_group_are_insiders(
    organization: Any, partner: BusinessPartner, other_partner: BusinessPartner
) -> None:
    group = _group(organization)
    BusinessPartner.objects.filter(pk__in=[partner.pk, other_partner.pk]).update(corporate_group=group)
    partner, other_partner = _fresh(partner, other_partner)

    assert insider_relationship(partner, other_partner) == "same_corporate_group"
    assert insider_relationship(other_partner, partner) == "same_corporate_group"


def test_members_of_two_different_groups_are_not_insiders(
    organization: Any, partner: BusinessPartner, other_partner: BusinessPartner
) -> None:
    BusinessPartner.objects.filter(pk=partner.pk).update(corporate_group=_group(organization, "A"))
    BusinessPartner.objects.filter(pk=other_partner.pk).update(corporate_group=_group(organization, "B"))
    partner, other_partner = _fresh(partner, other_partner)

    assert insider_relationship(partner, other_partner) is None


def test_partners_sharing_a_pan_are_insiders(partner: BusinessPartner, other_partner: BusinessPartner) -> None:
    # The same legal entity registered in two states: one PAN, two GSTINs.
    BusinessPartner.objects.filter(pk=other_partner.pk).update(
        pan=partner.pan, gstin=_other_state_gstin(partner.pan, "24")
    )
    (other_partner,) = _fresh(other_partner)
    assert other_partner.gstin != partner.gstin

    assert insider_relationship(partner, other_partner) == "same_pan"
    assert insider_relationship(other_partner, partner) == "same_pan"


def test_partners_sharing_a_gstin_are_insiders(partner: BusinessPartner, other_partner: BusinessPartner) -> None:
    # Only one ACTIVE partner may hold a GSTIN: the other is blocked.
    BusinessPartner.objects.filter(pk=other_partner.pk).update(
        status=PartnerStatus.BLOCKED, gstin=partner.gstin, pan=partner.pan
    )
    (other_partner,) = _fresh(other_partner)

    assert insider_relationship(partner, other_partner) == "same_gstin"
    assert insider_relationship(other_partner, partner) == "same_gstin"


def test_blank_pans_and_gstins_match_nothing(partner: BusinessPartner, other_partner: BusinessPartner) -> None:
    BusinessPartner.objects.filter(pk__in=[partner.pk, other_partner.pk]).update(pan="", gstin="")
    partner, other_partner = _fresh(partner, other_partner)

    assert insider_relationship(partner, other_partner) is None
    assert list(insiders_of(partner)) == []


def test_partners_of_two_organizations_are_never_insiders(
    organization: Any, partner: BusinessPartner, foreign_partner: BusinessPartner
) -> None:
    BusinessPartner.objects.filter(pk=foreign_partner.pk).update(
        pan=partner.pan, gstin=partner.gstin, status=PartnerStatus.BLOCKED
    )
    (foreign_partner,) = _fresh(foreign_partner)

    assert insider_relationship(partner, foreign_partner) is None
    assert insider_relationship(foreign_partner, partner) is None
    assert foreign_partner not in insiders_of(partner)
    assert partner not in insiders_of(foreign_partner)


def test_the_reason_codes_are_stable() -> None:
    assert INSIDER_REASONS == (
        "same_partner",
        "master_and_branch",
        "same_master",
        "same_corporate_group",
        "same_gstin",
        "same_pan",
    )


# --- insiders_of ----------------------------------------------------------------------------------


@pytest.fixture
def network(organization: Any, other_organization: Any) -> dict[str, BusinessPartner]:
    """Master M with branches B1 and B2; M in group G with X; P shares M's PAN (other state),
    U is unrelated, F (other organization) shares M's PAN."""
    names = ["M", "B1", "B2", "X", "P", "U"]
    partners = {name: factories.approved_partner(organization) for name in names}
    partners["F"] = factories.approved_partner(other_organization)
    m = partners["M"]
    group = _group(organization)
    _link(partners["B1"], m)
    _link(partners["B2"], m)
    BusinessPartner.objects.filter(pk__in=[m.pk, partners["X"].pk]).update(corporate_group=group)
    BusinessPartner.objects.filter(pk=partners["P"].pk).update(pan=m.pan, gstin=_other_state_gstin(m.pan))
    BusinessPartner.objects.filter(pk=partners["F"].pk).update(pan=m.pan, gstin=_other_state_gstin(m.pan, "29"))
    return {name: BusinessPartner.objects.get(pk=p.pk) for name, p in partners.items()}


def _names(network: dict[str, BusinessPartner], partners: Any) -> set[str]:
    by_id = {p.pk: name for name, p in network.items()}
    return {by_id[p.pk] for p in partners}


def test_insiders_of_a_master_are_its_branches_group_and_pan_sharers_in_one_query(
    network: dict[str, BusinessPartner], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        insiders = list(insiders_of(network["M"]))

    assert _names(network, insiders) == {"B1", "B2", "X", "P"}


def test_insiders_of_a_branch_are_its_master_and_siblings(
    network: dict[str, BusinessPartner], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        insiders = list(insiders_of(network["B1"]))

    assert _names(network, insiders) == {"M", "B2"}  # not the master's group: relationships are direct


def test_insiders_of_agrees_with_insider_relationship_for_every_pair(network: dict[str, BusinessPartner]) -> None:
    for name, partner in network.items():
        expected = {
            other_name
            for other_name, other in network.items()
            if other_name != name and insider_relationship(partner, other) is not None
        }
        assert _names(network, insiders_of(partner)) == expected, name
        assert insider_ids_of(partner) == {network[n].pk for n in expected}
        for other in network.values():
            assert insider_relationship(partner, other) == insider_relationship(other, partner)


def test_an_unrelated_partner_has_no_insiders(network: dict[str, BusinessPartner]) -> None:
    assert list(insiders_of(network["U"])) == []
    assert list(insiders_of(network["F"])) == []  # its PAN twin M is in another organization


# --- partner_set_master --------------------------------------------------------------------------


def test_a_desk_manager_makes_a_partner_the_branch_of_another(
    partner: BusinessPartner, other_partner: BusinessPartner, desk_manager: Any
) -> None:
    result = partner_set_master(
        actor=desk_manager, partner_id=other_partner.pk, master_partner_id=partner.pk, reason="Same owners, Kadi unit"
    )

    other_partner.refresh_from_db()
    assert result.master_partner_id == other_partner.master_partner_id == partner.pk
    assert _updated_events() == [
        {
            "partner_id": str(other_partner.pk),
            "fields": ["master_partner"],
            "master_partner_id": str(partner.pk),
            "previous_master_partner_id": None,
            "reason": "Same owners, Kadi unit",
        }
    ]
    event = OutboxEvent.objects.get(type=events.PARTNER_UPDATED)
    assert (event.partner_id, event.organization_id, event.actor_id) == (
        other_partner.pk,
        other_partner.organization_id,
        desk_manager.pk,
    )
    assert insider_relationship(partner, other_partner) == "master_and_branch"


def test_removing_the_master_emits_the_previous_one(
    partner: BusinessPartner, other_partner: BusinessPartner, desk_manager: Any
) -> None:
    _link(other_partner, partner)

    partner_set_master(actor=desk_manager, partner_id=other_partner.pk, master_partner_id=None, reason="Sold off")

    other_partner.refresh_from_db()
    assert other_partner.master_partner_id is None
    assert _updated_events()[0]["master_partner_id"] is None
    assert _updated_events()[0]["previous_master_partner_id"] == str(partner.pk)


def test_setting_the_same_master_again_changes_nothing_and_emits_nothing(
    partner: BusinessPartner, other_partner: BusinessPartner, desk_manager: Any
) -> None:
    _link(other_partner, partner)
    updated_at = other_partner.updated_at

    partner_set_master(actor=desk_manager, partner_id=other_partner.pk, master_partner_id=partner.pk, reason="again")

    other_partner.refresh_from_db()
    assert other_partner.updated_at == updated_at
    assert _updated_events() == []


def _assert_no_master_change(*partners: BusinessPartner, masters: list[Any]) -> None:
    assert [p.master_partner_id for p in _fresh(*partners)] == masters
    assert _updated_events() == []


def test_a_partner_cannot_be_its_own_master(partner: BusinessPartner, desk_manager: Any) -> None:
    with pytest.raises(MasterIsSelf) as excinfo:
        partner_set_master(actor=desk_manager, partner_id=partner.pk, master_partner_id=partner.pk, reason="x")

    assert (excinfo.value.code, excinfo.value.status) == ("master_is_self", 409)
    _assert_no_master_change(partner, masters=[None])


def test_a_branch_cannot_become_a_master(
    partner: BusinessPartner, other_partner: BusinessPartner, third_partner: BusinessPartner, desk_manager: Any
) -> None:
    _link(other_partner, partner)

    with pytest.raises(MasterHasMaster) as excinfo:
        partner_set_master(
            actor=desk_manager, partner_id=third_partner.pk, master_partner_id=other_partner.pk, reason="x"
        )

    assert (excinfo.value.code, excinfo.value.status) == ("master_has_master", 409)
    _assert_no_master_change(third_partner, other_partner, masters=[None, partner.pk])


def test_a_master_cannot_become_a_branch(
    partner: BusinessPartner, other_partner: BusinessPartner, third_partner: BusinessPartner, desk_manager: Any
) -> None:
    _link(other_partner, partner)

    with pytest.raises(PartnerHasBranches) as excinfo:
        partner_set_master(actor=desk_manager, partner_id=partner.pk, master_partner_id=third_partner.pk, reason="x")

    assert (excinfo.value.code, excinfo.value.status) == ("partner_has_branches", 409)
    _assert_no_master_change(partner, other_partner, masters=[None, partner.pk])


def test_a_cycle_of_two_is_refused(partner: BusinessPartner, other_partner: BusinessPartner, desk_manager: Any) -> None:
    _link(other_partner, partner)

    with pytest.raises(MasterHasMaster):
        partner_set_master(actor=desk_manager, partner_id=partner.pk, master_partner_id=other_partner.pk, reason="x")

    _assert_no_master_change(partner, other_partner, masters=[None, partner.pk])


def test_a_master_of_another_organization_is_not_found(
    partner: BusinessPartner, foreign_partner: BusinessPartner, desk_manager: Any
) -> None:
    with pytest.raises(MasterPartnerNotFound) as excinfo:
        partner_set_master(actor=desk_manager, partner_id=partner.pk, master_partner_id=foreign_partner.pk, reason="x")

    assert (excinfo.value.code, excinfo.value.status) == ("master_partner_not_found", 404)
    _assert_no_master_change(partner, masters=[None])


def test_a_reason_is_required(partner: BusinessPartner, other_partner: BusinessPartner, desk_manager: Any) -> None:
    with pytest.raises(FieldInvalid) as excinfo:
        partner_set_master(actor=desk_manager, partner_id=other_partner.pk, master_partner_id=partner.pk, reason="  ")

    assert excinfo.value.errors == [
        {"attr": "reason", "code": "required", "detail": "Say why the master partner changes."}
    ]
    _assert_no_master_change(other_partner, masters=[None])


@pytest.mark.parametrize(
    ("who", "error", "status"),
    [
        ("kyc_officer", PermissionDenied, 403),  # staff without partners.change_businesspartner
        ("risk_officer", PermissionDenied, 403),
        ("owner", PermissionDenied, 403),  # the partner's own owner: back office only
        ("other_org_staff", PartnerNotFound, 404),
        ("foreign_owner", PartnerNotFound, 404),
    ],
)
def test_only_back_office_staff_with_the_change_capability_set_a_master(
    request: pytest.FixtureRequest,
    partner: BusinessPartner,
    other_partner: BusinessPartner,
    foreign_partner: BusinessPartner,
    who: str,
    error: type[Exception],
    status: int,
) -> None:
    actor = foreign_partner.owner if who == "foreign_owner" else request.getfixturevalue(who)  # type: ignore[attr-defined]

    with pytest.raises(error) as excinfo:
        partner_set_master(actor=actor, partner_id=partner.pk, master_partner_id=other_partner.pk, reason="x")

    assert excinfo.value.status == status  # type: ignore[attr-defined]
    _assert_no_master_change(partner, masters=[None])


@pytest.mark.django_db(transaction=True)
def test_two_partners_made_each_others_master_at_once_cannot_both_succeed(
    organization: Any, run_concurrently: Any
) -> None:
    from django.contrib.auth.models import Group

    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory

    a = factories.approved_partner(organization)
    b = factories.approved_partner(organization)
    manager = UserFactory(organization=organization)
    manager.groups.add(Group.objects.get(name=Role.DESK_MANAGER))
    pairs = iter([(a, b), (b, a)])

    def link() -> str:
        branch, master = next(pairs)
        try:
            partner_set_master(actor=manager, partner_id=branch.pk, master_partner_id=master.pk, reason="race")
        except (MasterHasMaster, PartnerHasBranches) as exc:
            return exc.code
        return "linked"

    results = run_concurrently(link, times=2)

    assert [r.error for r in results] == [None, None]
    outcomes = sorted(r.value for r in results)
    assert outcomes[0] == "linked"
    assert outcomes[1] in {"master_has_master", "partner_has_branches"}
    a, b = _fresh(a, b)
    assert {a.master_partner_id, b.master_partner_id} in ({None, a.pk}, {None, b.pk})
    assert len(_updated_events()) == 1


# --- corporate groups ------------------------------------------------------------------------------


def test_an_organization_admin_creates_a_corporate_group(organization: Any, director: Any) -> None:
    group = corporate_group_create(actor=director, name="  Patel   Cotton  Group ")

    assert (group.organization_id, group.name) == (organization.pk, "Patel Cotton Group")
    event = OutboxEvent.objects.get(type=events.CORPORATE_GROUP_CREATED)
    assert event.payload == {"corporate_group_id": str(group.pk), "name": "Patel Cotton Group"}
    assert (event.organization_id, event.aggregate_id) == (organization.pk, str(group.pk))


def test_a_group_name_is_unique_per_organization_ignoring_case(
    organization: Any, director: Any, other_org_staff: Any
) -> None:
    corporate_group_create(actor=director, name="Patel Group")

    with pytest.raises(CorporateGroupNameTaken) as excinfo:
        corporate_group_create(actor=director, name="patel group")

    assert (excinfo.value.code, excinfo.value.status) == ("corporate_group_name_taken", 409)
    assert CorporateGroup.objects.filter(organization=organization).count() == 1
    corporate_group_create(actor=other_org_staff, name="Patel Group")  # another organization may
    assert OutboxEvent.objects.filter(type=events.CORPORATE_GROUP_CREATED).count() == 2


def test_creating_a_group_needs_the_add_capability(desk_manager: Any) -> None:
    with pytest.raises(PermissionDenied):
        corporate_group_create(actor=desk_manager, name="Patel Group")

    assert CorporateGroup.objects.count() == 0
    assert not OutboxEvent.objects.filter(type=events.CORPORATE_GROUP_CREATED).exists()


def test_renaming_a_group(organization: Any, director: Any, other_org_staff: Any) -> None:
    group = corporate_group_create(actor=director, name="Patel Group")
    corporate_group_create(actor=director, name="Shah Group")

    with pytest.raises(CorporateGroupNameTaken):
        corporate_group_rename(actor=director, group_id=group.pk, name="SHAH group")
    with pytest.raises(CorporateGroupNotFound):
        corporate_group_rename(actor=other_org_staff, group_id=group.pk, name="Mine now")
    corporate_group_rename(actor=director, group_id=group.pk, name="Patel Cotton Group")

    group.refresh_from_db()
    assert group.name == "Patel Cotton Group"
    renamed = OutboxEvent.objects.get(type=events.CORPORATE_GROUP_RENAMED)
    assert renamed.payload == {
        "corporate_group_id": str(group.pk),
        "name": "Patel Cotton Group",
        "previous_name": "Patel Group",
    }


def test_a_desk_manager_puts_two_partners_in_one_group_and_they_become_insiders(
    organization: Any, partner: BusinessPartner, other_partner: BusinessPartner, desk_manager: Any
) -> None:
    group = _group(organization)

    partner_set_corporate_group(actor=desk_manager, partner_id=partner.pk, group_id=group.pk)
    partner_set_corporate_group(actor=desk_manager, partner_id=other_partner.pk, group_id=group.pk)
    partner_set_corporate_group(actor=desk_manager, partner_id=other_partner.pk, group_id=group.pk)  # no change

    partner, other_partner = _fresh(partner, other_partner)
    assert partner.corporate_group_id == other_partner.corporate_group_id == group.pk
    assert insider_relationship(partner, other_partner) == "same_corporate_group"
    assert _updated_events() == [
        {
            "partner_id": str(p.pk),
            "fields": ["corporate_group"],
            "corporate_group_id": str(group.pk),
            "previous_corporate_group_id": None,
        }
        for p in (partner, other_partner)
    ]

    partner_set_corporate_group(actor=desk_manager, partner_id=partner.pk, group_id=None)
    partner.refresh_from_db()
    assert partner.corporate_group_id is None
    assert _updated_events()[-1]["previous_corporate_group_id"] == str(group.pk)


def test_a_group_of_another_organization_is_not_found(
    other_organization: Any, partner: BusinessPartner, desk_manager: Any
) -> None:
    foreign_group = _group(other_organization)

    with pytest.raises(CorporateGroupNotFound) as excinfo:
        partner_set_corporate_group(actor=desk_manager, partner_id=partner.pk, group_id=foreign_group.pk)

    assert excinfo.value.status == 404
    partner.refresh_from_db()
    assert partner.corporate_group_id is None
    assert _updated_events() == []


def test_a_kyc_officer_cannot_set_a_group(organization: Any, partner: BusinessPartner, kyc_officer: Any) -> None:
    with pytest.raises(PermissionDenied):
        partner_set_corporate_group(actor=kyc_officer, partner_id=partner.pk, group_id=_group(organization).pk)

    partner.refresh_from_db()
    assert partner.corporate_group_id is None
    assert _updated_events() == []


# --- admin --------------------------------------------------------------------------------------


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_admin_sets_master_and_group_and_shows_the_insiders(
    organization: Any,
    partner: BusinessPartner,
    other_partner: BusinessPartner,
    foreign_partner: BusinessPartner,
    director: Any,
) -> None:
    client = staff_client(director)
    base = f"/admin/partners/businesspartner/{other_partner.pk}"
    form = client.get(f"{base}/actions/set_master_partner/")
    assert form.status_code == 200
    choices = {str(value) for value, _ in form.context["form"].fields["master_partner"].choices if value}
    assert str(partner.pk) in choices
    assert str(foreign_partner.pk) not in choices
    assert str(other_partner.pk) not in choices

    response = client.post(
        f"{base}/actions/set_master_partner/", {"master_partner": partner.pk, "reason": "Same family"}, follow=True
    )
    assert f"Master partner set to {partner.code}." in _messages(response)
    other_partner.refresh_from_db()
    assert other_partner.master_partner_id == partner.pk

    client.post("/admin/partners/corporategroup/actions/create_group/", {"name": "Kadi group"})
    group = CorporateGroup.objects.get(organization=organization)
    response = client.post(f"{base}/actions/set_corporate_group/", {"corporate_group": group.pk}, follow=True)
    assert "Corporate group set to Kadi group." in _messages(response)

    page = client.get(f"{base}/change/")
    assert page.status_code == 200
    assert f"{partner.code} {partner.legal_name}</a> (master and branch)" in page.content.decode()


def test_admin_refusal_is_reported_and_changes_nothing(
    partner: BusinessPartner, other_partner: BusinessPartner, third_partner: BusinessPartner, director: Any
) -> None:
    _link(other_partner, partner)
    client = staff_client(director)

    response = client.post(
        f"/admin/partners/businesspartner/{partner.pk}/actions/set_master_partner/",
        {"master_partner": third_partner.pk, "reason": "Merger"},
        follow=True,
    )

    assert "(partner_has_branches)" in response.content.decode()  # the form again, the refusal on it (issue 17)
    _assert_no_master_change(partner, other_partner, masters=[None, partner.pk])


def test_the_corporate_group_admin_shows_only_the_staff_members_organization(
    organization: Any, other_organization: Any, director: Any
) -> None:
    mine = _group(organization, "Mine")
    theirs = _group(other_organization, "Theirs")
    client = staff_client(director)

    listing = client.get("/admin/partners/corporategroup/")

    assert listing.status_code == 200
    assert [g.pk for g in listing.context["cl"].result_list] == [mine.pk]
    assert client.get(f"/admin/partners/corporategroup/{theirs.pk}/change/").status_code == 302
    assert client.get(f"/admin/partners/corporategroup/{mine.pk}/change/").status_code == 200
