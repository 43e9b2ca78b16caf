"""Periodic tasks are declared in settings.PERIODIC_TASKS and synced into django-celery-beat's
tables after every migrate; the sync is idempotent and leaves tasks it does not manage alone."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.periodic import MANAGED_PREFIX, sync_periodic_tasks

pytestmark = pytest.mark.django_db

PRUNE = "accounts.prune_auth_artifacts"
PRUNE_SPEC = {
    "task": "apps.accounts.tasks.prune_auth_artifacts",
    "every_seconds": 3600,
    "description": "Delete expired OTP codes and expired JWT outstanding/blacklisted tokens.",
}
NOTHING_CHANGED = {"created": 0, "updated": 0, "disabled": 0}


def _declared_with(settings, tasks: dict) -> dict:
    """settings.PERIODIC_TASKS as the code declares it, with `tasks` added or replaced."""
    return {**settings.PERIODIC_TASKS, **tasks}


def _declared_without(settings, name: str) -> dict:
    return {key: spec for key, spec in settings.PERIODIC_TASKS.items() if key != name}


def test_after_migrate_the_auth_pruning_task_runs_hourly():
    task = PeriodicTask.objects.get(name=PRUNE)

    assert task.enabled is True
    assert task.task == "apps.accounts.tasks.prune_auth_artifacts"
    assert (task.interval.every, task.interval.period) == (3600, IntervalSchedule.SECONDS)
    assert task.crontab is None
    assert task.description == MANAGED_PREFIX + PRUNE_SPEC["description"]


def test_syncing_again_changes_nothing():
    first = sync_periodic_tasks()
    second = sync_periodic_tasks()

    assert first == NOTHING_CHANGED
    assert second == NOTHING_CHANGED
    assert PeriodicTask.objects.filter(name=PRUNE).count() == 1


def test_a_new_task_in_settings_is_created(settings):
    settings.PERIODIC_TASKS = _declared_with(
        settings,
        {"reports.nightly": {"task": "apps.reports.tasks.nightly", "every_seconds": 86400, "description": "Nightly."}},
    )

    assert sync_periodic_tasks() == {"created": 1, "updated": 0, "disabled": 0}
    task = PeriodicTask.objects.get(name="reports.nightly")
    assert (task.task, task.interval.every, task.enabled) == ("apps.reports.tasks.nightly", 86400, True)
    assert sync_periodic_tasks() == NOTHING_CHANGED


def test_a_changed_interval_is_updated(settings):
    settings.PERIODIC_TASKS = _declared_with(settings, {PRUNE: {**PRUNE_SPEC, "every_seconds": 600}})

    assert sync_periodic_tasks() == {"created": 0, "updated": 1, "disabled": 0}
    task = PeriodicTask.objects.get(name=PRUNE)
    assert (task.interval.every, task.interval.period) == (600, IntervalSchedule.SECONDS)
    assert sync_periodic_tasks() == NOTHING_CHANGED


def test_a_changed_task_path_is_updated(settings):
    settings.PERIODIC_TASKS = _declared_with(
        settings, {PRUNE: {**PRUNE_SPEC, "task": "apps.accounts.tasks.prune_everything"}}
    )

    assert sync_periodic_tasks() == {"created": 0, "updated": 1, "disabled": 0}
    assert PeriodicTask.objects.get(name=PRUNE).task == "apps.accounts.tasks.prune_everything"


def test_a_task_removed_from_settings_is_disabled_not_deleted(settings):
    settings.PERIODIC_TASKS = _declared_without(settings, PRUNE)

    assert sync_periodic_tasks() == {"created": 0, "updated": 0, "disabled": 1}
    assert PeriodicTask.objects.get(name=PRUNE).enabled is False
    assert sync_periodic_tasks() == NOTHING_CHANGED


def test_a_task_disabled_by_hand_in_the_admin_is_enabled_again():
    PeriodicTask.objects.filter(name=PRUNE).update(enabled=False)

    assert sync_periodic_tasks() == {"created": 0, "updated": 1, "disabled": 0}
    assert PeriodicTask.objects.get(name=PRUNE).enabled is True


def test_a_task_put_back_into_settings_is_enabled_again(settings):
    declared = dict(settings.PERIODIC_TASKS)
    settings.PERIODIC_TASKS = _declared_without(settings, PRUNE)
    sync_periodic_tasks()
    settings.PERIODIC_TASKS = declared

    assert sync_periodic_tasks() == {"created": 0, "updated": 1, "disabled": 0}
    assert PeriodicTask.objects.get(name=PRUNE).enabled is True


def test_tasks_not_created_from_code_are_left_alone(settings):
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="ops.manual", task="ops.tasks.manual", interval=every_minute, description="by hand"
    )
    settings.PERIODIC_TASKS = _declared_without(settings, PRUNE)

    assert sync_periodic_tasks() == {"created": 0, "updated": 0, "disabled": 1}
    manual = PeriodicTask.objects.get(name="ops.manual")
    assert (manual.enabled, manual.task, manual.interval.every) == (True, "ops.tasks.manual", 60)


def test_the_management_command_prints_the_counts(settings):
    settings.PERIODIC_TASKS = _declared_with(settings, {PRUNE: {**PRUNE_SPEC, "every_seconds": 900}})
    out = io.StringIO()

    call_command("sync_periodic_tasks", stdout=out)

    assert out.getvalue() == "periodic tasks: 0 created, 1 updated, 0 disabled\n"


def test_the_management_command_reports_nothing_to_do_when_in_sync():
    out = io.StringIO()

    call_command("sync_periodic_tasks", stdout=out)

    assert out.getvalue() == "periodic tasks: 0 created, 0 updated, 0 disabled\n"
