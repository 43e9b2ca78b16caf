"""The back office shows the outbox and replays dead letters, for those allowed to
(ARCHITECTURE section 8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.urls import reverse

from apps.accounts.tests.factories import SuperAdminFactory, UserFactory
from apps.events.emit import emit
from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:events_outboxevent_changelist")


def _event(status: str, aggregate_id: str = "bale-1") -> OutboxEvent:
    with transaction.atomic():
        event = emit("test.bale.graded", aggregate_type="test.bale", aggregate_id=aggregate_id)
    OutboxEvent.objects.filter(pk=event.pk).update(
        status=status, attempts=8, last_error="grader: RuntimeError: scale offline"
    )
    if status == EventStatus.DEAD:
        HandlerRun.objects.create(
            event=event, handler="grader", status=HandlerRunStatus.DEAD, attempts=8, last_error="scale offline"
        )
    event.refresh_from_db()
    return event


def _client(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _staff_with(*codenames: str):
    user: Any = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="events", codename__in=codenames))
    return user


def _snapshot(event: OutboxEvent) -> Any:
    return OutboxEvent.objects.values().get(pk=event.pk)


def test_the_outbox_changelist_loads_for_a_platform_admin_and_lists_dead_letters():
    dead = _event(EventStatus.DEAD)
    _event(EventStatus.DISPATCHED, aggregate_id="bale-2")

    response = _client(SuperAdminFactory()).get(CHANGELIST, {"status__exact": "DEAD"})

    assert response.status_code == 200
    assert [e.pk for e in response.context["cl"].result_list] == [dead.pk]
    assert "replay" in dict(response.context["action_form"].fields["action"].choices)


def test_an_event_page_shows_its_error_and_handler_runs():
    dead = _event(EventStatus.DEAD)

    response = _client(SuperAdminFactory()).get(reverse("admin:events_outboxevent_change", args=[dead.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "grader: RuntimeError: scale offline" in content
    assert "Dead-lettered" in content


def test_the_replay_action_requeues_the_selected_dead_events_only():
    dead = _event(EventStatus.DEAD)
    dispatched = _event(EventStatus.DISPATCHED, aggregate_id="bale-2")
    dispatched_before = _snapshot(dispatched)
    client = _client(SuperAdminFactory())

    response = client.post(CHANGELIST, {"action": "replay", "_selected_action": [str(dead.pk), str(dispatched.pk)]})

    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.claimed_until) == (EventStatus.PENDING, 0, None)
    assert HandlerRun.objects.get(event=dead).status == HandlerRunStatus.FAILED
    assert _snapshot(dispatched) == dispatched_before
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 event(s) queued again."]


def test_staff_without_the_replay_permission_are_not_offered_the_action_and_cannot_replay():
    dead = _event(EventStatus.DEAD)
    before = _snapshot(dead)
    client = _client(_staff_with("view_outboxevent"))

    page = client.get(CHANGELIST)
    response = client.post(CHANGELIST, {"action": "replay", "_selected_action": [str(dead.pk)]})

    assert page.status_code == 200
    assert page.context["action_form"] is None  # replay is its only action
    assert response.status_code == 200  # the changelist again; the action was ignored
    assert _snapshot(dead) == before
    assert HandlerRun.objects.get(event=dead).status == HandlerRunStatus.DEAD


def test_staff_with_the_replay_permission_can_replay_their_organizations_events_only():
    staff = _staff_with("view_outboxevent", "replay_outboxevent")
    dead = _event(EventStatus.DEAD)
    OutboxEvent.objects.filter(pk=dead.pk).update(organization_id=staff.organization_id)
    foreign = _event(EventStatus.DEAD, aggregate_id="bale-2")  # no organization: the platform's
    foreign_before = _snapshot(foreign)
    client = _client(staff)

    page = client.get(CHANGELIST)
    response = client.post(CHANGELIST, {"action": "replay", "_selected_action": [str(dead.pk), str(foreign.pk)]})

    assert [e.pk for e in page.context["cl"].result_list] == [dead.pk]
    assert response.status_code == 302
    assert OutboxEvent.objects.get(pk=dead.pk).status == EventStatus.PENDING
    assert _snapshot(foreign) == foreign_before


def test_staff_without_any_outbox_permission_cannot_open_the_outbox():
    dead = _event(EventStatus.DEAD)
    before = _snapshot(dead)
    client = _client(UserFactory())

    page = client.get(CHANGELIST)
    response = client.post(CHANGELIST, {"action": "replay", "_selected_action": [str(dead.pk)]})

    assert (page.status_code, response.status_code) == (403, 403)
    assert _snapshot(dead) == before


def test_nobody_can_add_or_delete_events_in_the_admin():
    dead = _event(EventStatus.DEAD)
    client = _client(SuperAdminFactory())

    add = client.get(reverse("admin:events_outboxevent_add"))
    delete = client.post(reverse("admin:events_outboxevent_delete", args=[dead.pk]), {"post": "yes"})

    assert (add.status_code, delete.status_code) == (403, 403)
    assert OutboxEvent.objects.filter(pk=dead.pk).exists()
