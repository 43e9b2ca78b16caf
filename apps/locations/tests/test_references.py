"""SPEC section 4: deactivation is refused while anything active refers to the location. Later
apps register a counter (references.py); a test referrer stands in for them here."""

import threading
import time

import pytest
from django.db import transaction

from apps.events.models import OutboxEvent
from apps.locations import references
from apps.locations.errors import LocationInactive, LocationInUse
from apps.locations.locks import lock_location_for_reference
from apps.locations.models import Location
from apps.locations.services.locations import location_deactivate
from apps.locations.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def test_a_referenced_location_is_not_deactivated_and_the_refusal_counts_per_referrer(
    authenticate, platform_admin, register_referrer
):
    location = LocationFactory()
    branches, availabilities = register_referrer("partners.branch"), register_referrer("tradedesk.availability")
    register_referrer("tradedesk.requirement")  # refers to other locations only
    branches.counts[location.id] = 2
    availabilities.counts[location.id] = 1

    response = authenticate(platform_admin).post(f"/api/v1/locations/{location.id}/deactivate")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "location_in_use"
    assert body["references"] == {"partners.branch": 2, "tradedesk.availability": 1}
    assert body["detail"] == (
        "The location is still in use (2 active partners.branch, 1 active tradedesk.availability); "
        "deactivate or move those first."
    )
    assert [e["detail"] for e in body["errors"]] == ["partners.branch: 2 active", "tradedesk.availability: 1 active"]
    location.refresh_from_db()
    assert location.is_active is True
    assert OutboxEvent.objects.count() == 0
    assert branches.calls == [location.id]


def test_once_the_references_are_gone_the_location_is_deactivated(platform_admin, register_referrer):
    location = LocationFactory()
    branches = register_referrer("partners.branch")
    branches.counts[location.id] = 1
    with pytest.raises(LocationInUse):
        location_deactivate(location_id=location.id, actor=platform_admin)

    branches.counts[location.id] = 0
    location_deactivate(location_id=location.id, actor=platform_admin)

    location.refresh_from_db()
    assert location.is_active is False
    assert OutboxEvent.objects.get().type == "locations.location.deactivated"


def test_registering_a_name_again_replaces_its_counter(register_referrer):
    first = register_referrer("partners.branch")
    second = register_referrer("partners.branch")
    location = LocationFactory()
    first.counts[location.id], second.counts[location.id] = 5, 1

    assert references.active_references(location.id) == {"partners.branch": 1}
    assert references.registered_location_references().count("partners.branch") == 1


def test_a_referrer_may_not_attach_an_inactive_location():
    location = LocationFactory(is_active=False)

    with pytest.raises(LocationInactive), transaction.atomic():
        lock_location_for_reference(location.id)


@pytest.mark.django_db(transaction=True)
def test_locking_for_a_reference_needs_a_transaction():
    location = LocationFactory()

    with pytest.raises(RuntimeError):
        lock_location_for_reference(location.id)


@pytest.mark.django_db(transaction=True)
def test_a_reference_being_attached_makes_a_concurrent_deactivation_wait_and_then_refuse(register_referrer):
    """The referrer holds FOR SHARE on the location while it writes its row; the deactivation's
    FOR UPDATE waits for it, then counts the new reference and refuses."""
    location = LocationFactory()
    branches = register_referrer("partners.branch")
    locked = threading.Event()
    outcome = {}

    def attach_a_branch():
        try:
            with transaction.atomic():
                lock_location_for_reference(location.id)
                locked.set()
                time.sleep(0.3)  # the deactivation arrives meanwhile
                branches.counts[location.id] = 1  # "INSERT INTO partners_branch ..."
        finally:
            from django.db import connection

            connection.close()

    def deactivate():
        locked.wait(5)
        started = time.monotonic()
        try:
            location_deactivate(location_id=location.id, actor=None)
            outcome["result"] = "deactivated"
        except LocationInUse as exc:
            outcome["result"] = exc.references
        finally:
            outcome["waited"] = time.monotonic() - started
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=attach_a_branch), threading.Thread(target=deactivate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcome["result"] == {"partners.branch": 1}
    assert outcome["waited"] >= 0.2
    assert Location.objects.get(pk=location.pk).is_active is True
