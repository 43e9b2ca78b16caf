"""GST registrations: the one primary moves atomically under the services, and the database refuses a second
primary or a malformed GSTIN written directly."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, transaction

from apps.events.models import OutboxEvent
from apps.organizations.errors import (
    FieldInvalid,
    PrimaryGstRegistrationRequired,
)
from apps.organizations.models import GstRegistration
from apps.organizations.services.gst_registrations import gst_registration_create, gst_registration_update
from apps.organizations.services.organizations import organization_update
from apps.organizations.tests.conftest import GSTIN_GJ, GSTIN_KA, GSTIN_MH
from apps.organizations.tests.factories import (
    GstRegistrationFactory,
    OrganizationFactory,
    gstin_for,
)

pytestmark = pytest.mark.django_db


def primaries(organization) -> list[str]:
    return list(
        GstRegistration.objects.filter(organization=organization, is_primary=True).values_list("gstin", flat=True)
    )


def rows(model, organization) -> list[dict]:
    return list(model.objects.filter(organization=organization).order_by("created_at").values())


def test_the_first_gst_registration_is_primary_and_gets_its_state_from_the_gstin(organization):
    registration = gst_registration_create(organization_id=organization.id, gstin=" 27aabct1234f1zq ")

    assert (registration.gstin, registration.state, registration.is_primary, registration.is_active) == (
        "27AABCT1234F1ZQ",
        "MH",
        True,
        True,
    )


def test_a_second_registration_is_not_primary_unless_asked(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    second = gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)

    assert (second.state, second.is_primary) == ("GJ", False)
    assert primaries(organization) == [GSTIN_MH]


def test_creating_a_primary_registration_moves_the_flag(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ, is_primary=True)

    assert primaries(organization) == [GSTIN_GJ]


def test_making_a_registration_primary_moves_the_flag_and_emits_for_both(organization):
    first = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    second = gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)
    OutboxEvent.objects.all().delete()

    gst_registration_update(organization_id=organization.id, gst_registration_id=second.id, is_primary=True)

    assert primaries(organization) == [GSTIN_GJ]
    updated = OutboxEvent.objects.filter(type="organizations.gst_registration.updated").order_by("position")
    assert [(e.aggregate_id, e.payload["changed"]) for e in updated] == [
        (str(first.id), {"is_primary": [True, False]}),
        (str(second.id), {"is_primary": [False, True]}),
    ]


def test_the_primary_cannot_simply_stop_being_primary(organization):
    first = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)
    before = rows(GstRegistration, organization)

    with pytest.raises(PrimaryGstRegistrationRequired):
        gst_registration_update(organization_id=organization.id, gst_registration_id=first.id, is_primary=False)

    assert rows(GstRegistration, organization) == before


def test_the_primary_cannot_be_deactivated_while_others_are_active(organization):
    first = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_GJ)
    before = rows(GstRegistration, organization)

    with pytest.raises(PrimaryGstRegistrationRequired) as caught:
        gst_registration_update(organization_id=organization.id, gst_registration_id=first.id, is_active=False)

    assert (caught.value.code, caught.value.status) == ("primary_gst_registration_required", 409)
    assert rows(GstRegistration, organization) == before


def test_the_last_active_registration_may_be_deactivated_and_takes_the_flag_back_when_reactivated(organization):
    only = gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    gst_registration_update(organization_id=organization.id, gst_registration_id=only.id, is_active=False)
    assert primaries(organization) == []

    reactivated = gst_registration_update(organization_id=organization.id, gst_registration_id=only.id, is_active=True)
    assert (reactivated.is_active, reactivated.is_primary) == (True, True)


def test_a_duplicate_gstin_is_a_field_error_and_adds_nothing(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    with pytest.raises(FieldInvalid) as caught:
        gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    assert (caught.value.attr, caught.value.reason) == ("gstin", "unique")
    assert GstRegistration.objects.filter(organization=organization).count() == 1


def test_a_gstin_needs_the_organizations_pan(organization):
    other_pan = "27AAPFU0939F1ZV"

    with pytest.raises(FieldInvalid) as caught:
        gst_registration_create(organization_id=organization.id, gstin=other_pan)

    assert (caught.value.attr, caught.value.reason) == ("gstin", "gstin_pan_mismatch")
    assert not GstRegistration.objects.exists()


def test_an_organization_without_a_pan_cannot_register_a_gstin():
    organization = OrganizationFactory(pan="")

    with pytest.raises(FieldInvalid) as caught:
        gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    assert (caught.value.attr, caught.value.reason) == ("gstin", "organization_pan_missing")


def test_the_pan_cannot_change_under_active_gst_registrations(organization):
    gst_registration_create(organization_id=organization.id, gstin=GSTIN_MH)

    with pytest.raises(FieldInvalid) as caught:
        organization_update(organization_id=organization.id, pan="AAPFU0939F")

    assert (caught.value.attr, caught.value.reason) == ("pan", "pan_in_use_by_gstin")
    organization.refresh_from_db()
    assert organization.pan == "AABCT1234F"


def test_the_database_refuses_a_second_primary_registration(organization):
    GstRegistrationFactory(organization=organization, gstin=GSTIN_MH, is_primary=True)

    with pytest.raises(IntegrityError, match="gst_registration_one_primary"), transaction.atomic():
        GstRegistrationFactory(organization=organization, gstin=GSTIN_KA, state="KA", is_primary=True)


def test_the_database_refuses_a_malformed_gstin(organization):
    with pytest.raises(IntegrityError, match="gst_registration_gstin_format"), transaction.atomic():
        GstRegistrationFactory(organization=organization, gstin="27AABCT1234F1X1")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_to_be_primary_leave_exactly_one_primary(organization, run_concurrently):
    entity_numbers = iter("12345678")
    lock = threading.Lock()

    def register() -> str:
        with lock:
            entity = next(entity_numbers)
        return gst_registration_create(
            organization_id=organization.id, gstin=gstin_for(entity=entity), is_primary=True
        ).gstin

    results = run_concurrently(register, times=8)

    assert [r.error for r in results] == [None] * 8
    assert GstRegistration.objects.filter(organization=organization).count() == 8
    assert GstRegistration.objects.filter(organization=organization, is_primary=True).count() == 1
    # Every registration but the first took the flag from the one before it: one move each.
    assert OutboxEvent.objects.filter(type="organizations.gst_registration.updated").count() == 7
