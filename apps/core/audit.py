"""Audit history context: every row change made while serving a request is grouped under one
django-pghistory context carrying the acting user, the URL and the request id.

The user: for session requests (the admin) AuthenticationMiddleware has set it already; for
bearer-token API requests DRF authenticates inside the view, and pghistory's request class
(swapped in by `HistoryMiddleware`) updates the context when DRF assigns `request.user`, before
the view writes anything. The request id is the one `RequestIdMiddleware` set or accepted, so a
history row leads to the log lines and emitted events of the same request.

`tracked()` is the one model decorator every app uses to turn that history on.
"""

from __future__ import annotations

from typing import Any

import pghistory
from django.http import HttpRequest
from pghistory.middleware import HistoryMiddleware

from apps.core.request_context import get_request_id


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware plus the request id. Place after AuthenticationMiddleware."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(request)
        context["request_id"] = get_request_id()
        return context


def tracked(*extra: Any, **options: Any) -> Any:
    """Audit history for a model: a snapshot on insert and on every change of a field (`extra`
    adds trackers such as `pghistory.DeleteEvent()`, `options` go to `pghistory.track`, e.g.
    `exclude`). Fresh trackers per call: a condition resolves its fields against the model it is
    bound to. The trigger names follow the events ("insert", "update"), so moving a model onto
    this decorator changes no migration."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
        *extra,
        **options,
    )
