"""Celery beat runs as a process of its own, exactly once, in every way the system is started
(issue 14, item 14): `worker -B` embedded beat in a worker child that survived its parent's
SIGKILL as an orphan, still scheduling. `make run` starts the Procfile (scripts/run.sh)."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)
EMBEDDED_BEAT = {"-B", "--beat"}


def _procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (BASE / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


def _compose() -> dict[str, list[str]]:
    services = yaml.safe_load((BASE / "docker-compose.yml").read_text())["services"]
    commands = {}
    for name, service in services.items():
        command = service.get("command", [])
        commands[name] = shlex.split(command) if isinstance(command, str) else list(command)
    return commands


def _celery_roles(commands: dict[str, list[str]]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for name, argv in commands.items():
        if "celery" in argv:
            role = argv[argv.index("cotton_erp") + 1]
            roles.setdefault(role, []).append(name)
            assert not EMBEDDED_BEAT & set(argv), f"{name} embeds beat: {argv}"
    return roles


def test_the_procfile_of_make_run_has_one_beat_process_and_workers_without_embedded_beat():
    assert "Procfile" in (BASE / "scripts" / "run.sh").read_text()

    assert _celery_roles(_procfile()) == {"worker": ["worker"], "beat": ["beat"]}


def test_docker_compose_has_one_beat_service_and_workers_without_embedded_beat():
    assert _celery_roles(_compose()) == {"worker": ["worker"], "beat": ["beat"]}


def test_a_web_process_freezes_the_objects_of_its_loaded_code(settings):
    import gc

    from apps.core.runtime import freeze_startup_objects

    settings.GC_FREEZE_AFTER_STARTUP = False
    before = gc.get_freeze_count()
    assert freeze_startup_objects() == 0
    assert gc.get_freeze_count() == before

    settings.GC_FREEZE_AFTER_STARTUP = True
    frozen = freeze_startup_objects()
    # (Frozen objects still go when nothing refers to them: the count may drop afterwards.)
    assert frozen > max(before, 10_000)
