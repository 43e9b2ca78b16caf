"""Template tags of the back office: the admin home's work queues and the number formats."""

from __future__ import annotations

from typing import Any

from django import template

from apps.accounts.models import User
from apps.backoffice.queues import Queue, work_queues
from apps.core.formatting import indian_number, rupees

register = template.Library()


@register.simple_tag(takes_context=True)
def backoffice_queues(context: dict[str, Any]) -> list[Queue]:
    user = context["request"].user
    return work_queues(user) if isinstance(user, User) else []


@register.filter
def inr(value: Any, places: int = 2) -> str:
    return indian_number(value, places)


@register.filter
def rs(value: Any) -> str:
    return rupees(value)
