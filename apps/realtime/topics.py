"""Topics a socket may subscribe to beyond its own groups, and who may.

A topic is a channel-layer group name: `<prefix>.<rest>`. Apps register a checker per prefix
in their `AppConfig.ready()` (a negotiation the user is party to, `market.<org id>.<commodity>`);
a topic whose prefix has no checker is refused. Checkers are sync and may query the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apps.realtime.audience import INTERNAL, SUPER_ADMIN

TopicChecker = Callable[[Any, str], bool]

# What Channels accepts as a group name (ASCII letters, digits, `-`, `_`, `.`; under 100 characters).
_TOPIC_RE = re.compile(r"^[A-Za-z0-9_\-.]{3,99}$")

_checkers: dict[str, TopicChecker] = {}


def register_topic(prefix: str, checker: TopicChecker) -> None:
    """`checker(user, topic) -> bool` decides subscriptions to topics `<prefix>.<...>`."""
    if not prefix or prefix.endswith("."):
        raise ValueError(f"topic prefix {prefix!r} must be non-empty and not end with '.'")
    _checkers[prefix] = checker


def unregister_topic(prefix: str) -> None:
    _checkers.pop(prefix, None)


def is_group_name(name: Any) -> bool:
    """A name the channel layer accepts as a group (and so as a topic)."""
    return isinstance(name, str) and _TOPIC_RE.fullmatch(name) is not None


def topic_permitted(user: Any, topic: str) -> bool:
    """True when the longest registered prefix of `topic` has a checker that says yes."""
    if not is_group_name(topic):
        return False
    prefixes = [p for p in _checkers if topic.startswith(f"{p}.") and len(topic) > len(p) + 1]
    if not prefixes:
        return False
    return bool(_checkers[max(prefixes, key=len)](user, topic))


def may_follow_organization(user: Any, topic: str) -> bool:
    """`org.<id>`: the organization's own staff; platform admins may follow any organization."""
    organization_id = topic.split(".", 1)[1]
    user_type = getattr(user, "user_type", None)
    if user_type == SUPER_ADMIN:
        return True
    return user_type == INTERNAL and str(getattr(user, "organization_id", "")) == organization_id
