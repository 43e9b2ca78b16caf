"""The organization profile: normalised, its changes in the event, invalid fields refused."""

from __future__ import annotations

import pytest

from apps.events.models import OutboxEvent
from apps.organizations.errors import (
    FieldInvalid,
)
from apps.organizations.models import Organization
from apps.organizations.services.organizations import organization_update

pytestmark = pytest.mark.django_db


def test_the_profile_is_normalised_and_its_changes_are_in_the_event(organization):
    OutboxEvent.objects.all().delete()

    organization_update(
        organization_id=organization.id,
        cin="u17111gj2010ptc062345",
        address_line1="Plot 12, Cotton Market Yard",
        city="Rajkot",
        state="gj",
        pincode="360003",
        contact_email="Accounts@Example.com",
        contact_phone="98250 12345",
    )

    organization.refresh_from_db()
    assert (organization.cin, organization.state, organization.contact_email, organization.contact_phone) == (
        "U17111GJ2010PTC062345",
        "GJ",
        "accounts@example.com",
        "+919825012345",
    )
    event = OutboxEvent.objects.get()
    assert event.type == "organizations.organization.updated"
    assert event.payload["changed"]["state"] == ["", "GJ"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("pan", "AAPFU0939", "invalid_pan"),
        ("cin", "U17111GJ2010PTC06234", "invalid_cin"),
        ("state", "XX", "unknown_state"),
        ("pincode", "060003", "invalid_pincode"),
        ("contact_email", "not-an-email", "invalid_email"),
        ("contact_phone", "12345", "invalid_phone"),
        ("name", "  ", "blank"),
    ],
)
def test_invalid_profile_fields_are_refused_and_change_nothing(organization, field, value, reason):
    before = Organization.objects.filter(pk=organization.pk).values().get()

    with pytest.raises(FieldInvalid) as caught:
        organization_update(organization_id=organization.id, **{field: value})

    assert (caught.value.attr, caught.value.reason) == (field, reason)
    assert Organization.objects.filter(pk=organization.pk).values().get() == before


def test_the_services_check_the_actors_rights_themselves_and_change_nothing_when_refused(
    organization, other_organization, org_admin
):
    from apps.accounts.roles import Role
    from apps.accounts.tests.factories import UserFactory
    from apps.core.errors import NotFound, PermissionDenied
    from apps.organizations.services.gst_registrations import gst_registration_create
    from apps.organizations.tests.conftest import GSTIN_MH, with_role

    desk_manager = with_role(UserFactory(organization=organization), Role.DESK_MANAGER)  # view_ permissions only
    outsider = with_role(UserFactory(organization=other_organization), Role.ORGANIZATION_ADMIN)
    before = Organization.objects.filter(pk=organization.pk).values().get()

    with pytest.raises(PermissionDenied):
        organization_update(organization_id=organization.id, actor=desk_manager, name="Renamed")
    with pytest.raises(NotFound):
        organization_update(organization_id=organization.id, actor=outsider, name="Renamed")
    with pytest.raises(NotFound):
        gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH, actor=outsider)

    assert Organization.objects.filter(pk=organization.pk).values().get() == before
    assert not organization.gst_registrations.exists()
    assert not OutboxEvent.objects.filter(type="organizations.organization.updated").exists()

    updated = organization_update(organization_id=organization.id, actor=org_admin, name="Renamed")
    assert updated.name == "Renamed"
