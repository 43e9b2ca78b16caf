"""When the next attempt of a failed delivery happens."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.conf import settings


def max_attempts() -> int:
    """The first attempt plus one per entry of the retry schedule."""
    return 1 + len(settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS)


def retry_delay_seconds(attempts_made: int) -> float | None:
    """Delay before the next attempt after `attempts_made` failed ones, with jitter; None once
    the schedule is exhausted (the delivery is dead)."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    jitter = float(settings.WEBHOOKS_RETRY_JITTER_RATIO)
    return float(schedule[attempts_made - 1]) * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 (jitter, not crypto)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """`Retry-After` as seconds from `now`: delta-seconds or an HTTP date; capped at
    WEBHOOKS_RETRY_AFTER_MAX_SECONDS. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    seconds: float
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # "-0000": HTTP dates are GMT anyway
        seconds = max(0.0, (when - now).total_seconds())
    return min(seconds, float(settings.WEBHOOKS_RETRY_AFTER_MAX_SECONDS))
