"""A record's history for the staff who may see the record: who changed what, when (in the
organization's time, IST), field labels and old -> new, read from the pghistory rows.

Works for every admin screen whose model pghistory tracks: the record is looked up through that
screen's own scoped queryset (`ModelAdmin.get_queryset`), so a record outside the staff member's
organization answers 404 like its change page does; no access to pghistory's raw Events admin is
needed (that stays the platform admin's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from pghistory.models import Events

from apps.accounts.models import User
from apps.core.formatting import human_label

MAX_ENTRIES = 200
HIDDEN_FIELDS = {"updated_at", "created_at", "id"}


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    when: Any
    who: str
    what: str
    changes: list[Change]


def _field_label(model: type[models.Model], name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return human_label(capfirst(name.replace("_", " ")))
    return human_label(capfirst(str(getattr(field, "verbose_name", name))))


def _display(model: type[models.Model], name: str, value: Any, related: dict[tuple[str, str], str]) -> str:
    if value in (None, ""):
        return "-"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    related_model = field.related_model
    if field.is_relation and isinstance(related_model, type) and issubclass(related_model, models.Model):
        return related.get((related_model._meta.label, str(value)), str(value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return timezone.localtime(moment).strftime("%d %b %Y, %H:%M:%S")
    choices = dict(getattr(field, "flatchoices", None) or [])
    return str(choices.get(value, value))


def _related_names(model: type[models.Model], events: list[Any]) -> dict[tuple[str, str], str]:
    """The str() of every related row the diffs name, fetched once per related model."""
    wanted: dict[type[models.Model], set[str]] = {}
    for event in events:
        for name, (old, new) in (event.pgh_diff or {}).items():
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            related_model = field.related_model
            if (
                field.is_relation
                and isinstance(related_model, type)
                and issubclass(related_model, models.Model)
                and not field.many_to_many
            ):
                wanted.setdefault(related_model, set()).update(str(v) for v in (old, new) if v)
    names: dict[tuple[str, str], str] = {}
    for related_model, ids in wanted.items():
        try:
            rows = related_model._default_manager.in_bulk(list(ids))
        except (ValueError, ValidationError):
            continue
        for pk, row in rows.items():
            names[(related_model._meta.label, str(pk))] = str(row)
    return names


def timeline_for(model: type[models.Model], obj: models.Model) -> list[Entry]:
    events = list(Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:MAX_ENTRIES])
    user_ids = {str((e.pgh_context or {}).get("user")) for e in events if (e.pgh_context or {}).get("user")}
    users = {str(u.pk): u.full_name or u.email or str(u.pk) for u in User.objects.filter(pk__in=user_ids)}
    related = _related_names(model, events)
    entries = []
    for event in events:
        context = event.pgh_context or {}
        who = users.get(str(context.get("user")), "System") if context.get("user") else "System"
        changes = [
            Change(_field_label(model, name), _display(model, name, old, related), _display(model, name, new, related))
            for name, (old, new) in (event.pgh_diff or {}).items()
            if name not in HIDDEN_FIELDS
        ]
        what = {"insert": "Created", "update": "Changed", "delete": "Deleted"}.get(event.pgh_label, event.pgh_label)
        if event.pgh_label == "update" and not changes:
            continue
        entries.append(Entry(timezone.localtime(event.pgh_created_at), who, what, changes))
    return entries


@staff_member_required
def timeline_view(request: HttpRequest, app_label: str, model_name: str, object_id: str) -> HttpResponse:
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as exc:
        raise Http404("No such record.") from exc
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        raise Http404("No such record.")
    try:
        obj = model_admin.get_queryset(request).filter(pk=object_id).first()
    except (ValueError, ValidationError):
        obj = None
    if obj is None:
        raise Http404("No such record.")
    opts = model._meta
    context = {
        **admin.site.each_context(request),
        "title": f"Timeline of {obj}",
        "opts": opts,
        "object": obj,
        "change_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
        "entries": timeline_for(model, obj),
        "timezone": timezone.get_current_timezone_name(),
    }
    return render(request, "backoffice/timeline.html", context)
