"""GET /api/v1/events/?after=<position>: the events the caller may see, in order, and never an
event a client reading on with `after` could skip (ARCHITECTURE section 8).

The feed only shows events of transactions older than the oldest one still running, so the tests
that read events commit for real (`transaction=True`): the test's own transaction would hide them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.db import connection, connections, transaction

from apps.accounts.models import UserType
from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.accounts.users import user_create
from apps.core.exception_handler import VALIDATION_DETAIL
from apps.events.emit import emit
from apps.events.models import OutboxEvent
from apps.events.tests.conftest import emit_committed, wait_until_final
from apps.organizations.services.organizations import organization_update
from apps.organizations.tests.factories import OrganizationFactory

# One xdist worker runs, one after the other, the tests that hold a long transaction (the sweeps'
# seeded world) and those that wait for the feed's visibility horizon, which any running
# transaction on the server holds back (`make test` runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("outbox_horizon")

committed = pytest.mark.django_db(transaction=True)

URL = "/api/v1/events/"


def _types_and_positions(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(e["type"], e["position"]) for e in body["results"]]


def _ids(body: dict[str, Any]) -> list[str]:
    return [e["id"] for e in body["results"]]


@pytest.fixture
def world():
    """Two organizations, their staff, an external user of A, a platform admin, and six events."""
    org_a, org_b = OrganizationFactory(name="Alpha Cotton"), OrganizationFactory(name="Beta Cotton")
    w: dict[str, Any] = {
        "org_a": org_a,
        "org_b": org_b,
        "staff_a": UserFactory(organization=org_a),
        "staff_b": UserFactory(organization=org_b),
        "admin": SuperAdminFactory(),
        "other_external_a": ExternalUserFactory(organization=org_a),
    }
    organization_update(organization_id=org_a.id, name="Alpha Cotton Mills")
    w["a_updated"] = OutboxEvent.objects.get(organization_id=org_a.id)
    organization_update(organization_id=org_b.id, name="Beta Cotton Mills")
    w["b_updated"] = OutboxEvent.objects.get(organization_id=org_b.id)
    w["external_a"] = user_create(
        user_type=UserType.EXTERNAL, organization_id=org_a.id, mobile="+919811100001", full_name="Ravi Patel"
    )
    w["external_created"] = OutboxEvent.objects.get(aggregate_id=str(w["external_a"].id))
    w["a_thing"] = emit_committed("test.bale.graded", aggregate_id="bale-1", organization_id=org_a.id)
    w["other_external_poked"] = emit_committed(
        "accounts.user.poked",
        aggregate_type="accounts.user",
        aggregate_id=w["other_external_a"].id,
        organization_id=org_a.id,
    )
    w["platform"] = emit_committed("test.platform.tick", aggregate_id="clock")
    wait_until_final(*(e for e in w.values() if isinstance(e, OutboxEvent)))
    return w


@committed
def test_staff_see_their_organizations_events_in_position_order(world, authenticate):
    response = authenticate(world["staff_a"]).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert _types_and_positions(body) == [
        ("organizations.organization.updated", world["a_updated"].position),
        ("accounts.user.created", world["external_created"].position),
        ("test.bale.graded", world["a_thing"].position),
        ("accounts.user.poked", world["other_external_poked"].position),
    ]
    assert body["next_after"] is None


@committed
def test_a_feed_entry_is_the_event_envelope(world, authenticate):
    body = authenticate(world["staff_a"]).get(URL, {"limit": 1}).json()

    event = world["a_updated"]
    assert body["results"] == [
        {
            "id": str(event.id),
            "position": event.position,
            "type": "organizations.organization.updated",
            "version": 1,
            "occurred_at": body["results"][0]["occurred_at"],
            "organization": str(world["org_a"].id),
            "partner": None,
            "aggregate_type": "organizations.organization",
            "aggregate_id": str(world["org_a"].id),
            "actor": None,
            "correlation_id": "",
            "payload": {
                "code": world["org_a"].code,
                "name": "Alpha Cotton Mills",
                "is_active": True,
                "changed": {"name": ["Alpha Cotton", "Alpha Cotton Mills"]},
            },
        }
    ]
    assert datetime.fromisoformat(body["results"][0]["occurred_at"]) == event.occurred_at


@committed
def test_staff_page_through_with_limit_and_next_after(world, authenticate):
    client = authenticate(world["staff_a"])

    first = client.get(URL, {"limit": 3}).json()
    second = client.get(URL, {"limit": 3, "after": first["next_after"]}).json()

    assert _ids(first) == [str(world[k].id) for k in ("a_updated", "external_created", "a_thing")]
    assert first["next_after"] == world["a_thing"].position
    assert _ids(second) == [str(world["other_external_poked"].id)]
    assert second["next_after"] is None
    assert client.get(URL, {"after": 0}).json() == client.get(URL).json()


@committed
def test_a_page_that_exactly_ends_the_feed_has_no_next_after(world, authenticate):
    client = authenticate(world["staff_a"])

    body = client.get(URL, {"limit": 2, "after": world["external_created"].position}).json()

    assert _ids(body) == [str(world["a_thing"].id), str(world["other_external_poked"].id)]
    assert body["next_after"] is None
    assert client.get(URL, {"after": world["other_external_poked"].position}).json() == {
        "results": [],
        "next_after": None,
    }


@committed
def test_staff_of_another_organization_see_none_of_its_events(world, authenticate):
    body = authenticate(world["staff_b"]).get(URL).json()

    assert _ids(body) == [str(world["b_updated"].id)]


@committed
def test_a_platform_admin_sees_every_event(world, authenticate):
    body = authenticate(world["admin"]).get(URL).json()

    assert _ids(body) == [
        str(world[k].id)
        for k in ("a_updated", "b_updated", "external_created", "a_thing", "other_external_poked", "platform")
    ]


@committed
def test_an_external_user_sees_only_events_about_its_own_user_record(world, authenticate):
    body = authenticate(world["external_a"]).get(URL).json()

    assert _ids(body) == [str(world["external_created"].id)]
    assert body["results"][0]["aggregate_id"] == str(world["external_a"].id)


@committed
def test_the_feed_costs_a_fixed_number_of_queries(world, authenticate, django_assert_num_queries):
    client = authenticate(world["staff_a"])
    client.get(URL)  # warm the connection and caches

    with django_assert_num_queries(3):  # the caller, the cursor's anchor, the page
        body = client.get(URL, {"after": world["a_updated"].position, "limit": 500}).json()

    assert len(body["results"]) == 3


@pytest.mark.django_db
def test_anonymous_callers_are_refused(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "attr", "code", "detail"),
    [
        ({"after": "abc"}, "after", "invalid", "A valid integer is required."),
        ({"after": "-1"}, "after", "min_value", "Ensure this value is greater than or equal to 0."),
        ({"limit": "0"}, "limit", "min_value", "Ensure this value is greater than or equal to 1."),
        ({"limit": "501"}, "limit", "max_value", "Ensure this value is less than or equal to 500."),
    ],
)
def test_a_malformed_cursor_or_limit_is_a_400_naming_the_parameter(authenticate, params, attr, code, detail):
    response = authenticate(UserFactory()).get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == ("validation_failed", VALIDATION_DETAIL)
    assert body["errors"] == [{"code": code, "detail": detail, "attr": attr}]


# --- the visibility horizon ------------------------------------------------------------------------


class HeldTransaction:
    """Runs `fn` in a transaction on another connection and keeps it open until `commit()`."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.value: Any = None
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.value = self.fn()
                self._started.set()
                assert self._release.wait(timeout=30), "the test never released the transaction"
        except BaseException as exc:
            self.error = exc
            self._started.set()
        finally:
            connections.close_all()

    def start(self) -> HeldTransaction:
        self._thread.start()
        assert self._started.wait(timeout=10)
        if self.error:
            raise self.error
        return self

    def commit(self) -> Any:
        self._release.set()
        self._thread.join(timeout=10)
        if self.error:
            raise self.error
        return self.value


@committed
def test_an_event_of_a_running_transaction_is_not_shown_until_it_commits(authenticate):
    staff = UserFactory()
    client = authenticate(staff)
    held = HeldTransaction(
        lambda: emit(
            "test.bale.graded", aggregate_type="test.bale", aggregate_id="1", organization_id=staff.organization_id
        )
    ).start()
    try:
        assert client.get(URL).json() == {"results": [], "next_after": None}
    finally:
        event = held.commit()

    wait_until_final(event)
    assert _ids(client.get(URL).json()) == [str(event.id)]


@committed
def test_an_event_committed_later_with_a_lower_position_is_held_back_until_it_can_be_shown_in_order(authenticate):
    """T1 takes a position and stays open; T2 takes a higher one and commits first. The feed holds
    T2's event back until T1 is final, then shows both, in position order."""
    staff = UserFactory()
    client = authenticate(staff)
    org_id = staff.organization_id
    t1 = HeldTransaction(
        lambda: emit("test.bale.weighed", aggregate_type="test.bale", aggregate_id="1", organization_id=org_id)
    ).start()
    try:
        t2_event = emit_committed(
            "test.bale.weighed", aggregate_type="test.bale", aggregate_id="2", organization_id=org_id
        )
        while_t1_runs = client.get(URL).json()
    finally:
        t1_event = t1.commit()

    assert t1_event.position < t2_event.position
    assert while_t1_runs == {"results": [], "next_after": None}
    wait_until_final(t1_event, t2_event)
    assert _ids(client.get(URL).json()) == [str(t1_event.id), str(t2_event.id)]


@committed
def test_a_client_following_the_cursor_sees_every_event_once_when_transaction_ids_and_positions_disagree(
    authenticate,
):
    """T2 starts writing first (older transaction id) but takes its position after T1, then commits
    while T1 is still open. T2's event is final and shown; a client reading on from its position
    must still get T1's lower-positioned event once T1 commits (the feed reads in txid order)."""
    staff = UserFactory()
    client = authenticate(staff)
    org_id = staff.organization_id
    seen: list[str] = []
    cursor: dict[str, Any] = {}

    def read_on() -> None:
        body = client.get(URL, cursor).json()
        seen.extend(_ids(body))
        if body["results"]:
            cursor["after"] = body["results"][-1]["position"]

    with transaction.atomic():
        with connection.cursor() as c:
            c.execute("SELECT pg_current_xact_id()")  # T2 gets its transaction id now
        t1 = HeldTransaction(
            lambda: emit("test.bale.weighed", aggregate_type="test.bale", aggregate_id="1", organization_id=org_id)
        ).start()
        t2_event = emit("test.bale.weighed", aggregate_type="test.bale", aggregate_id="2", organization_id=org_id)
    try:
        wait_until_final(t2_event)  # every transaction older than T2 has ended (T1 is younger)
        read_on()
    finally:
        t1_event = t1.commit()
    wait_until_final(t1_event)
    read_on()
    read_on()

    assert t2_event.txid < t1_event.txid
    assert t1_event.position < t2_event.position
    assert seen == [str(t2_event.id), str(t1_event.id)]
