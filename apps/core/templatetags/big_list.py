"""`{% big_list_results cl %}`: Django's `{% result_list cl %}` (the same template and context,
per model overridable as Django's), with the rows of a big list (apps.core.admin's
BigListChangeList) built by `big_list_rows`; any other list's rows are Django's."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode

from apps.core.admin import big_list_rows

register = template.Library()


def big_list_context(cl: Any) -> dict[str, Any]:
    """admin_list.result_list(cl), with big_list_rows for its results."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": big_list_rows(cl),
    }


@register.tag(name="big_list_results")
def big_list_results_tag(parser: Any, token: Any) -> InclusionAdminNode:
    return InclusionAdminNode(
        parser, token, func=big_list_context, template_name="change_list_results.html", takes_context=False
    )
