"""The back office's service-action glue, shared by every app's admin: object-action forms that
call a service and report a refusal (DomainError), changing nothing.

A refusal of a form's action is shown on the form itself, with what was typed kept (the field
the service names gets the error; otherwise it heads the form). A success is a message and an
entry in the admin's "Recent actions" (LogEntry). Screens whose every field is read-only show
no Save buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from apps.core.errors import DomainError


class ServiceActionsMixin:
    """For ModelAdmins with django-object-actions buttons whose forms call services."""

    admin_site: Any
    model: Any

    def action_form_page(
        self, request: HttpRequest, obj: Any, form: forms.Form, title: str, submit_label: str
    ) -> HttpResponse:
        opts = self.model._meta
        if not self.get_queryset(request).filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
            # Outside the staff member's scope: say nothing about it, not even its name.
            if not getattr(request, "_service_refusal_reported", False):
                messages.error(request, "Not found. (not_found)")
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        back_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "object": obj,
            "form": form,
            "submit_label": submit_label,
            "back_url": back_url,
            "opts": opts,
        }
        return render(request, "admin/core/action_form.html", context)

    def run_service(
        self,
        request: HttpRequest,
        success: str,
        fn: Callable[..., Any],
        *,
        form: forms.Form | None = None,
        target: Any = None,
        **kwargs: Any,
    ) -> bool:
        """Call `fn(actor=request.user, **kwargs)`. A DomainError goes onto `form` when given
        (so the page can be shown again with the input), else into an error message; a success
        is a message and a LogEntry on `target` (by default the object of the action's URL)."""
        try:
            fn(actor=request.user, **kwargs)
        except DomainError as exc:
            if form is None or exc.status == 404:
                messages.error(request, domain_error_message(exc))
                request._service_refusal_reported = True  # type: ignore[attr-defined]
            else:
                add_domain_error(form, exc)
            return False
        messages.success(request, success)
        self.log_service_action(request, target, success)
        return True

    def log_service_action(self, request: HttpRequest, target: Any, message: str) -> None:
        """Record a service button in the admin's history ("Recent actions")."""
        if target is None:
            match = getattr(request, "resolver_match", None)
            pk = match.kwargs.get("pk") if match else None
            target = self.model._default_manager.filter(pk=pk).first() if pk else None
        if target is not None:
            self.log_change(request, target, message)  # type: ignore[attr-defined]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is not None and not self.has_editable_fields(request, obj):
            context.setdefault("show_save", False)
            context.setdefault("show_save_and_continue", False)
            context.setdefault("show_save_and_add_another", False)
            context.setdefault("show_delete_link", False)
        return super().change_view(request, object_id, form_url, extra_context=context)  # type: ignore[misc]

    def has_editable_fields(self, request: HttpRequest, obj: Any) -> bool:
        fields = flatten_fieldsets(self.get_fieldsets(request, obj))  # type: ignore[attr-defined]
        readonly = set(self.get_readonly_fields(request, obj))  # type: ignore[attr-defined]
        return any(field not in readonly for field in fields)


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Put a service's refusal on the form: each error naming one of its fields on that field,
    the rest (and the sentence) above the form."""
    placed = False
    for error in exc.errors:
        attr = error.get("attr")
        if attr in form.fields:
            form.add_error(attr, error.get("detail") or exc.detail)
            placed = True
    if not placed:
        form.add_error(None, domain_error_message(exc))


def domain_error_message(exc: DomainError) -> str:
    """How the back office words a service's refusal: its sentence and its stable code."""
    return f"{exc.detail} ({exc.code})"


def for_each_selected(
    model_admin: Any, request: HttpRequest, objects: Iterable[Any], act: Callable[[Any], object], *, done: str
) -> int:
    """A bulk action through a service: `act(obj)` for each selected object, one error line per
    refusal (the object, the service's wording and code), then one line with the count done
    (`done` is formatted with `count`). Returns the count."""
    count = 0
    for obj in objects:
        try:
            act(obj)
        except DomainError as exc:
            model_admin.message_user(request, f"{obj}: {domain_error_message(exc)}", messages.ERROR)
        else:
            count += 1
    if count:
        model_admin.message_user(request, done.format(count=count), messages.SUCCESS)
    return count
