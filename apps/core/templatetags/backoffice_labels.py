"""`human_label`: the admin's field labels and column headers as people write them (the
project's admin templates apply it to every screen, so no ModelAdmin needs to change)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from apps.core.formatting import human_label as _human_label

register = template.Library()


@register.filter
def human_label(value: object) -> str:
    text = str(value)
    fixed = _human_label(text)
    # The admin's label tags are already-escaped HTML; fixing words in them keeps them safe.
    return mark_safe(fixed) if isinstance(value, SafeString) else fixed  # noqa: S308
