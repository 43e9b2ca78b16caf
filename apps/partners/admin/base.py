"""What every partners admin screen shares: object-action forms that call a service and report
a refusal (DomainError) with message_user, changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
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
        back_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "object": obj,
            "form": form,
            "submit_label": submit_label,
            "back_url": back_url,
        }
        return render(request, "admin/partners/action_form.html", context)

    def run_service(self, request: HttpRequest, success: str, fn: Callable[..., Any], **kwargs: Any) -> bool:
        """Call `fn(actor=request.user, **kwargs)`; report its DomainError as an error message."""
        try:
            fn(actor=request.user, **kwargs)
        except DomainError as exc:
            messages.error(request, f"{exc.detail} ({exc.code})")
            return False
        messages.success(request, success)
        return True
