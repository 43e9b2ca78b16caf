"""Authorization sweep generated from the URL configuration (issue 14, "a permanent sweep").

Every API route with an object in its path, every method its view implements, is called with an
object of the victim organization SCH (seed_demo's, a private one where the market could show it)
by four callers who must not reach it:

    same_org_partner   the owner of a fresh SCH partner (no trade, match or negotiation with anyone)
    other_org_partner  the owner of a DFT partner
    other_org_staff    DFT's organization admin
    anonymous          no credentials

None may get a 2xx (or a 5xx), and none may write: Postgres's per-transaction statistics
(`pg_stat_xact_user_tables`) must show no row inserted, updated or deleted by the request,
outbox events included. Every list route (no object in its path) is read by the same callers and
must not mention a victim object's id.

New routes join by themselves. A route whose last path parameter has no entry in VICTIMS and
none in NOT_SWEPT fails the sweep: say how to name the victim's object, or why it cannot be swept.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.core.tests.sweeps.support import (
    SHARED_MASTERS,
    VICTIMS,
    Route,
    World,
    api_routes,
    idempotency_key,
    write_counts,
    writes_between,
)

# One xdist worker runs, one after the other, the tests that hold a long transaction (the sweeps'
# seeded world) and those that wait for the feed's visibility horizon, which any running
# transaction on the server holds back (`make test` runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("outbox_horizon")

CALLERS = ("same_org_partner", "other_org_partner", "other_org_staff", "anonymous")

# Tables a refused request may write without touching anyone's data: the caller's own
# idempotency record (a 4xx answer is stored and replayed, ARCHITECTURE section 11).
OWN_RECORDS = frozenset({"core_idempotencyrecord"})


# Routes with an object in the path that this sweep does not call, and why.
NOT_SWEPT: dict[str, str] = {}


def _object_routes() -> list[Route]:
    return [route for route in api_routes() if route.parameters]


def _victim_values(route: Route, w: World) -> tuple[dict[str, str], bool] | None:
    """The victim's parameter values and whether the route is a shared master; None if unknown."""
    for table, shared in ((VICTIMS, False), (SHARED_MASTERS, True)):
        if route.key in table:
            return table[route.key](w), shared
    return None


def _client(w: World, caller: str) -> Client:
    user = {
        "same_org_partner": w.same_org_partner_user,
        "other_org_partner": w.other_org_partner_user,
        "other_org_staff": w.other_org_staff,
        "anonymous": None,
    }[caller]
    if user is None:
        return Client()
    return Client(headers={"Authorization": f"Bearer {w.token(user)}"})


def _call(client: Client, method: str, url: str) -> Any:
    if method == "get":
        return client.get(url)
    return client.generic(
        method.upper(), url, b"{}", content_type="application/json", headers={"Idempotency-Key": idempotency_key()}
    )


def test_every_route_with_an_object_in_its_path_is_swept_or_listed_with_a_reason() -> None:
    unknown = [
        f"{route} ({route.view}): no VICTIMS/SHARED_MASTERS entry for {route.key!r}"
        for route in _object_routes()
        if route.key not in VICTIMS and route.key not in SHARED_MASTERS and str(route) not in NOT_SWEPT
    ]

    assert not unknown, "\n".join(unknown)
    assert len(_object_routes()) >= 70  # the resolver walk found the API (a sanity floor, not a pin)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
def test_no_caller_reaches_an_object_of_another_partner_or_organization(world: World, caller: str) -> None:
    client = _client(world, caller)
    problems: list[str] = []
    calls = 0

    for route in _object_routes():
        resolved = _victim_values(route, world)
        if resolved is None:
            continue  # reported by the test above
        values, shared = resolved
        url = route.url(values)
        for method in route.methods:
            if shared and method == "get" and caller != "anonymous":
                continue
            before = write_counts()
            response = _call(client, method, url)
            written = writes_between(before, write_counts(), ignore=OWN_RECORDS)
            calls += 1
            if response.status_code < 300 or response.status_code >= 500:
                problems.append(
                    f"{method.upper()} {url} ({route.view}): {response.status_code} {response.content[:200]!r}"
                )
            if written:
                problems.append(f"{method.upper()} {url} ({route.view}) wrote {written} ({response.status_code})")

    assert not problems, f"{caller}: {len(problems)} of {calls} calls\n" + "\n".join(problems)
    assert calls >= 100


def _victim_ids(w: World) -> dict[str, str]:
    """The ids a caller of another partner/organization must never see, by what they name."""
    ids: dict[str, str] = {}
    for key, victim in VICTIMS.items():
        if key.startswith("organizations."):
            continue  # the organization's own rows: asserted per route above, mentioned in legitimate answers
        for name, value in victim(w).items():
            ids[f"{key}:{name}"] = value
    return ids


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
def test_no_list_shows_a_caller_the_objects_of_another_partner_or_organization(world: World, caller: str) -> None:
    client = _client(world, caller)
    secrets = _victim_ids(world)
    problems: list[str] = []

    for route in api_routes():
        if route.parameters or "get" not in route.methods:
            continue
        url = route.url({})
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"GET {url}: {response.status_code}")
            continue
        text = response.content.decode(errors="replace")
        problems.extend(
            f"GET {url} ({response.status_code}) shows {name} {value}"
            for name, value in secrets.items()
            if value in text
        )

    assert not problems, f"{caller}:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_the_sweeps_instruments_see_an_allowed_call_and_its_writes(world: World) -> None:
    """A control: the victim partner's own owner cancelling its own draft requirement gets a 2xx,
    and the write counter sees the requirement row and its outbox event change."""
    values = VICTIMS["requirements.requirement_id"](world)
    client = Client(headers={"Authorization": f"Bearer {world.token(world.victim_partner_user)}"})

    before = write_counts()
    response = _call(client, "post", f"/api/v1/requirements/{values['requirement_id']}/cancel")
    written = writes_between(before, write_counts(), ignore=OWN_RECORDS)

    assert response.status_code == 200, response.content
    assert written.keys() >= {"tradedesk_requirement", "events_outboxevent"}
