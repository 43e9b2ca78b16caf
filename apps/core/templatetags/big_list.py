"""`{% big_list_results cl %}`: Django's `{% result_list cl %}` (the same template and context,
per model overridable as Django's), with the rows of a big list (apps.core.admin's
BigListChangeList) built by `big_list_rows`; any other list's rows are Django's."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils.safestring import SafeString

from apps.core.admin import big_list_rows

register = template.Library()


def big_list_context(cl: Any) -> dict[str, Any]:
    """admin_list.result_list(cl), with big_list_rows for its results, and `results_html`: the
    table's rows as change_list_results.html's row loop writes them, joined here (the template
    loop over a page's 1,100 cells cost 4-5 ms of a page); the template uses it when given."""
    headers = list(result_headers(cl))
    rows = big_list_rows(cl)
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": rows,
        "results_html": rows_html(rows),
    }


def rows_html(rows: list[Any]) -> SafeString | None:
    """What `{% for result in results %}` of change_list_results.html writes for rows without
    a form (each cell is already HTML: the template writes it as it is), or None with a form
    (list_editable: the template's own loop)."""
    if any(row.form is not None for row in rows):
        return None
    return SafeString("".join(f"\n\n<tr>{''.join(row)}</tr>\n" for row in rows))


@register.tag(name="big_list_results")
def big_list_results_tag(parser: Any, token: Any) -> InclusionAdminNode:
    return InclusionAdminNode(
        parser, token, func=big_list_context, template_name="change_list_results.html", takes_context=False
    )
