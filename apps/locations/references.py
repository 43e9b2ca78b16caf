"""Who refers to a location, so that a referenced location is never deactivated.

Locations sit below the apps that point at them (partner branches, availabilities,
requirements ...) and may not import them (ARCHITECTURE section 3). Each of those apps registers
a counter here from its `AppConfig.ready()`:

    register_location_reference("partners.branch", lambda location_id: Branch.objects.filter(
        location_id=location_id, is_active=True).count())

`location_deactivate` locks the location row (FOR UPDATE) and sums every counter under that lock.
A referrer that attaches a location takes `lock_location_for_reference()` (FOR SHARE) in its own
transaction first, so a reference being written and a deactivation never both succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

ReferenceCounter = Callable[[UUID], int]

_counters: dict[str, ReferenceCounter] = {}


def register_location_reference(name: str, counter: ReferenceCounter) -> None:
    """Register (or replace) the counter of active references named `name` (`"partners.branch"`)."""
    if not name:
        raise ValueError("a location reference needs a name")
    _counters[name] = counter


def unregister_location_reference(name: str) -> None:
    _counters.pop(name, None)


def registered_location_references() -> list[str]:
    return sorted(_counters)


def active_references(location_id: UUID) -> dict[str, int]:
    """The count of active references per referrer, only those above zero."""
    counts = {name: int(counter(location_id)) for name, counter in sorted(_counters.items())}
    return {name: count for name, count in counts.items() if count > 0}
