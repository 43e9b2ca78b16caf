"""Audit history context: every row change made while serving a request is grouped under one
django-pghistory context carrying the acting user, the URL and the request id.

The user: for session requests (the admin) AuthenticationMiddleware has set it already; for
bearer-token API requests DRF authenticates inside the view, and pghistory's request class
(swapped in by `HistoryMiddleware`) updates the context when DRF assigns `request.user`, before
the view writes anything. The request id is the one `RequestIdMiddleware` set or accepted, so a
history row leads to the log lines and emitted events of the same request.

Sync and async (issue 15). pghistory keeps its context in a `threading.local` and installs its
SQL wrapper on the calling thread's database connection, so under ASGI the context is entered
and left in Django's thread for the request (`sync_to_async`, thread sensitive): the thread the
sync view, its DRF authentication (which updates the user) and every write of the request run in.
Contextvars (the request id) follow into that thread; `threading.local` would not follow
anywhere else.

`tracked()` is the one model decorator every app uses to turn that history on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pghistory
from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIRequest as DjangoASGIRequest
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest
from django.http import HttpRequest, HttpResponseBase
from pghistory import config
from pghistory.middleware import ASGIRequest, HistoryMiddleware, WSGIRequest

from apps.core.request_context import get_request_id


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware plus the request id, sync and async. Place after AuthenticationMiddleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in config.middleware_methods():
            return await self.get_response(request)  # type: ignore[no-any-return]
        # In the request's thread: the context (reading request.user, which may load the session
        # user) and pghistory's thread-local state and connection wrapper.
        context = await sync_to_async(self._enter)(request)
        try:
            return await self.get_response(request)  # type: ignore[no-any-return]
        finally:
            await sync_to_async(context.__exit__)(None, None, None)

    def _enter(self, request: HttpRequest) -> pghistory.context:
        context = pghistory.context(**self.get_context(request))
        context.__enter__()
        # As HistoryMiddleware does: the request class that updates the context when DRF sets
        # the user inside the view.
        if isinstance(request, DjangoASGIRequest):
            request.__class__ = ASGIRequest
        elif isinstance(request, DjangoWSGIRequest):
            request.__class__ = WSGIRequest
        return context

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
