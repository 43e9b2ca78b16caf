"""What the trade-desk back-office screens share: read-only postings of the staff member's
organization whose only changes are service buttons, shown on the states that allow them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal
from django_object_actions import DjangoObjectActions

from apps.commodities.models import QualityParameter
from apps.core.admin import BigListAdminMixin, BigListChangeList, ServiceActionsMixin, attach_related
from apps.core.errors import NotFound
from apps.core.formatting import choice_badge, indian_number, key_value_table, quantity_text
from apps.core.india import STATES
from apps.tradedesk.selectors import search_word_matches

CANDY_KG = Decimal("355.62")  # when a commodity names no rate unit


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def per_candy(price_per_kg: Decimal | None, commodity: Any) -> Decimal | None:
    """A price per kg as a price per the commodity's rate unit (a candy for cotton)."""
    if price_per_kg is None:
        return None
    rate_unit = getattr(commodity, "rate_unit", None)
    factor = rate_unit.factor_to_kg if rate_unit is not None else CANDY_KG
    return price_per_kg * factor


def rate_unit_name(commodity: Any) -> str:
    rate_unit = getattr(commodity, "rate_unit", None)
    return rate_unit.code.lower() if rate_unit is not None else "candy"


def entered_quantity(quantity: Decimal | None, unit: Any, kg: Decimal | None) -> str:
    """ "150 bales (25,500 kg)"; just the kg when entered in kg."""
    if quantity is None:
        return "-"
    code = unit.code.lower() if unit is not None else ""
    if code == "kg":
        return quantity_text(kg if kg is not None else quantity, "kg")
    return f"{quantity_text(quantity, code)} ({quantity_text(kg, 'kg')})"


def entered_price(price: Decimal | None, unit: Any, price_per_kg: Decimal | None) -> str:
    """ "Rs 60,400.00 / candy (Rs 169.84 / kg)"."""
    if price is None:
        return "-"
    code = unit.code.lower() if unit is not None else ""
    if code == "kg":
        return f"Rs {indian_number(price)} / kg"
    return f"Rs {indian_number(price)} / {code} (Rs {indian_number(price_per_kg)} / kg)"


def parameters_table(values: dict[str, Any] | None, commodity: Any) -> str:
    """Quality values (or a spec) as a small table, parameter names instead of codes."""
    if not values:
        return key_value_table([])
    names = (
        {
            code: (name, unit)
            for code, name, unit in QualityParameter.objects.filter(commodity=commodity).values_list(
                "code", "name", "unit"
            )
        }
        if commodity is not None
        else {}
    )
    rows = []
    for code, value in values.items():
        name, unit = names.get(code, (code.replace("_", " ").capitalize(), ""))
        if isinstance(value, dict):
            text = ", ".join(f"{key} {item}" for key, item in value.items())
        elif isinstance(value, list):
            text = ", ".join(str(item) for item in value)
        else:
            text = str(value)
        rows.append((name, f"{text} {unit}".strip()))
    return key_value_table(rows)


_PROBE_MARKER = "\x1fstate-code-probe"


def state_codes_present(queryset: QuerySet[Any], codes: list[str]) -> set[str]:
    """Which of `codes` some row of `queryset` has as its `state_code`: one statement,
    `SELECT c.code FROM unnest(<codes>) c WHERE EXISTS (<queryset> AND state_code = c.code LIMIT 1)`,
    an index probe per code. The probe is the ORM's SQL for one code (compiled with a marker
    value, whose placeholder becomes `c.code`). A UNION ALL of 38 probes cost PostgreSQL 1.7-2.3 ms
    of planning and 3 ms in all, this 0.35 ms; 38 querysets built and compiled by the ORM cost
    5 ms. The answer is held equal to the ORM's `SELECT DISTINCT` by test_admin_big_lists.py."""
    if not codes or queryset.query.is_empty():
        return set()
    probe = queryset.order_by().filter(state_code=_PROBE_MARKER).values_list("state_code", flat=True)[:1]
    sql, params = probe.query.sql_with_params()
    where = [index for index, param in enumerate(params) if param == _PROBE_MARKER]
    # The SQL's placeholders (`%s`; a literal percent sign is `%%`), in the order of `params`.
    pieces = _PLACEHOLDER.split(sql)
    placeholders = [n for n, piece in enumerate(pieces) if piece == "%s"]
    if len(where) != 1 or len(placeholders) != len(params):  # not the query this expects: the ORM's way
        probes = [queryset.order_by().filter(state_code=c).values_list("state_code", flat=True)[:1] for c in codes]
        return set(probes[0].union(*probes[1:], all=True))
    pieces[placeholders[where[0]]] = "present.code"
    exists = "".join(pieces)  # the ORM's compiled SQL: every value is still a parameter
    statement = f"SELECT present.code FROM unnest(%s::text[]) AS present(code) WHERE EXISTS ({exists})"  # noqa: S608
    values = [list(codes), *(param for index, param in enumerate(params) if index != where[0])]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        return {row[0] for row in cursor.fetchall()}


_PLACEHOLDER = re.compile(r"(%%|%s)")


class StateCodeFilter(admin.SimpleListFilter):
    """By the posting's state code, offering the codes the staff member's postings hold, as
    Django's filter on the field did; but where Django reads every posting for them (`SELECT
    DISTINCT state_code`: 55 ms at 200,000 postings, on every page of the list), this asks
    once for each state whether one of them is there (`state_codes_present`: one statement of
    one-row index probes on (state_code, organization)). A code outside the gazetteer's states (none is
    written: the code comes from the location) is not offered, but `?state_code=` still filters
    by it; a blank one is offered as "(none)"."""

    title = "state code"
    parameter_name = "state_code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        present = state_codes_present(model_admin.get_queryset(request), [s.code for s in STATES] + [""])
        return [(code, code or "(none)") for code in sorted(present)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.value()
        return queryset if value is None else queryset.filter(state_code=value)


class PostingChangeList(BigListChangeList):
    """A page of postings is read without joins; its partners, commodities, varieties and units
    (`list_select_related`) are read after it, in one statement (`attach_related`). Joining all
    seven tables cost PostgreSQL 8-12 ms of planning (the join order search) on every page, more
    than running it; joining the partner alone built a partner for every row where a page of
    postings names a handful (issue 15). The export and the actions keep the joins."""

    def page_queryset(self, queryset: Any) -> Any:
        if isinstance(self.model_admin.list_select_related, list | tuple):  # attached after the page
            queryset = queryset.select_related(None)
        return super().page_queryset(queryset)

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        related = self.model_admin.list_select_related
        if isinstance(related, list | tuple):
            # Read here rather than on first use: the page's rows are the queryset's own cache,
            # which the template and the row count then reuse.
            attach_related(list(self.result_list), self.model, related)


class PostingAdmin(BigListAdminMixin, ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
    """A posting screen: nothing is added or deleted here; `change_actions` show on a posting in
    one of `actionable_states` that `get_queryset` (the screen's scoped selector) holds."""

    actionable_states: tuple[str, ...] = ()
    not_found: type[NotFound] = NotFound
    list_select_related = ("partner", "commodity", "variety")
    # The posting's parties (a trade has two: buyer and seller): matched by
    # code or legal name in the partner table first when searching.
    partner_fields: tuple[str, ...] = ("partner",)
    search_fields = ("number", "partner__code", "partner__legal_name", "variety__name", "commodity__name")
    search_help_text = (
        "A posting's number, its partner's code or legal name, or its variety or commodity (any part of them)."
    )
    # With the pk Django adds, (organization, -created_at, -id) is an index range (issue 15).
    ordering = ("-created_at",)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PostingChangeList

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        """As the admin's own search over `search_fields` (every word matches one of them, any part,
        any case), but the partner's code and name are matched in the partner table first: an OR
        across the join kept PostgreSQL from the trigram indexes and scanned every posting (207 ms
        at 50,000, 349 ms at 200,000); `number ILIKE` OR `partner_id = ANY(ids)` is two index
        probes (issue 15)."""
        for term in smart_split(search_term):
            if term.startswith(('"', "'")) and term[0] == term[-1]:
                term = unescape_string_literal(term)
            if not term:
                continue
            # The partners (those this member of staff may see), varieties and commodities the
            # word matches, in one statement: one round trip, not three.
            found = search_word_matches(
                request.user,
                term,
                varieties="variety__name" in self.search_fields,
                commodities="commodity__name" in self.search_fields,
            )
            # The partner test first: PostgreSQL tries an OR's terms in the order written, and
            # `partner_id = ANY(ids)` settles a row more cheaply than `upper(number) LIKE`.
            matches = Q()
            for name in self.partner_fields:
                matches |= Q(**{f"{name}_id__in": found["partner"]})
            matches |= Q(number__icontains=term)
            # Varieties and commodities are small master tables: matched first like the partners
            # (where the screen searches them).
            if "variety__name" in self.search_fields:
                matches |= Q(variety_id__in=found["variety"])
            if "commodity__name" in self.search_fields:
                matches |= Q(commodity_id__in=found["commodity"])
            queryset = queryset.filter(matches)
        return queryset, False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Any) -> str:
        return choice_badge(obj, "status")

    @admin.display(description="Variety", ordering="variety__name")
    def goods(self, obj: Any) -> str:
        return obj.variety.name if obj.variety_id else obj.commodity.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        try:
            actionable = self.get_queryset(request).filter(pk=object_id, status__in=self.actionable_states).exists()
        except (ValueError, ValidationError):  # not a UUID: the change view answers it
            return ()
        return self.change_actions if actionable else ()

    def in_scope(self, request: HttpRequest, obj: Any) -> bool:
        """The action views fetch the object unscoped: report a posting outside the staff
        member's organization as missing (`not_found`) and do nothing."""
        if self.get_queryset(request).filter(pk=obj.pk).exists():
            return True
        self.message_user(request, f"{self.not_found.default_detail} ({self.not_found.code})", messages.ERROR)
        return False
