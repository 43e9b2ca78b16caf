"""The back office's service-action glue, shared by every app's admin: object-action forms that
call a service and report a refusal (DomainError), changing nothing.

A refusal of a form's action is shown on the form itself, with what was typed kept (the field
the service names gets the error; otherwise it heads the form). A success is a message and an
entry in the admin's "Recent actions" (LogEntry). Screens whose every field is read-only show
no Save buttons.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Callable, Iterable
from functools import cache, cached_property
from itertools import accumulate
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name  # type: ignore[attr-defined]
from django.contrib.admin.templatetags.admin_list import results as admin_results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (  # type: ignore[attr-defined]  # _get_non_gfk_field: Django's, not in the stubs
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    flatten_fieldsets,
    quote,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection, models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # Django's, not in the stubs
from django.utils.translation import gettext as _

from apps.core.errors import DomainError
from apps.core.formatting import escaped, indian_number
from apps.core.sql import JoinedRead, execute_prepared


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


# --- Big lists (issue 15): a changelist page of 100 at 200,000 rows in well under 50 ms ---------

# Up to this many rows a list counts exactly; past it the count is PostgreSQL's estimate.
EXACT_COUNT_UP_TO = 1000
_PK_PLACEHOLDER = "0PKPLACEHOLDER0"  # letters and digits: reverse() and quote() leave it as it is


def _two_significant(value: int) -> int:
    """200,004 -> 200,000; 49,928 -> 50,000: an estimate should not look exact."""
    digits = len(str(value))
    step = 10 ** max(digits - 2, 0)
    return int(round(value / step) * step)


class EstimatedCountPaginator(Paginator):
    """The admin's paginator for big lists: counts at most EXACT_COUNT_UP_TO + 1 rows
    (`SELECT count(*) FROM (... LIMIT 1001)`); when more match, `count` is the planner's estimate
    of the rows (from EXPLAIN, no rows read), rounded to two significant digits, never below the
    rows it did count, and `estimated` is True so the page says "about". A `COUNT(*)` of 200,000
    rows cost 35-80 ms on every page and every search; this costs 1-4 ms.

    With an estimate, any page number is accepted (a page past the real end is empty, as the
    last page can be when the estimate is high), so no row is out of reach when it is low."""

    estimated = False

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        queryset = cast(QuerySet[Any], self.object_list).order_by()
        counted = queryset[: EXACT_COUNT_UP_TO + 1].count()
        if counted <= EXACT_COUNT_UP_TO:
            return int(counted)
        self.estimated = True
        return max(_two_significant(planner_row_estimate(queryset)), counted)

    def validate_number(self, number: Any) -> int:
        if not self.estimated:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger("That page number is not an integer") from exc
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return int(number)

    def page(self, number: Any) -> Page:
        if not self.estimated:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)

    @property
    def count_text(self) -> str:
        """ "about 2,00,000" (an estimate) or the exact count, in Indian grouping."""
        text = indian_number(self.count, 0)
        return f"about {text}" if self.estimated else text


def planner_row_estimate(queryset: Any) -> int:
    """PostgreSQL's estimate of the rows `queryset` returns, from EXPLAIN (the ORM's
    `QuerySet.explain`: planned, not run)."""
    plan = json.loads(queryset.values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class BigListChangeList(ChangeList):
    """Django's ChangeList with each row's change link built once a page: Django reverses the URL
    and then resolves it again (to decide which filters to keep on it) for every row, about a
    third of a 100-row page's Python time at this URLconf's size. The link is the same for every
    row but the id, so it is built for a placeholder id and the id is put in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._row_filters = self.preserved_filters
        # Already in the link `url_for_result` returns: Django's row rendering then keeps it as is.
        self.preserved_filters = ""

    @cached_property
    def _row_url_template(self) -> str:
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(_PK_PLACEHOLDER,),
            current_app=self.model_admin.admin_site.name,
        )
        return str(add_preserved_filters({"preserved_filters": self._row_filters, "opts": self.opts}, url))

    def url_for_result(self, result: Any) -> str:
        return self._row_url_template.replace(_PK_PLACEHOLDER, str(quote(getattr(result, self.pk_attname))), 1)

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = self.page_queryset(self.result_list)

    def page_queryset(self, queryset: Any) -> Any:
        """The rows of the page as they are read: only the admin's `list_page_fields` when it
        names them (a posting or partner row has 40-odd columns, JSON among them; building 100
        of each cost 10-15 ms of the page, the columns shown need a dozen). Subclasses add
        their joins and prefetches before calling this."""
        fields = getattr(self.model_admin, "list_page_fields", None)
        return queryset.only(*fields) if fields else queryset


def attach_related(rows: list[Any], model: type[models.Model], names: Iterable[str]) -> None:
    """Each row's foreign keys in `names` (`relation`, or `relation__below` for what that
    related row joins in turn) read for the rows' distinct ids and cached on the rows, as
    prefetch_related would cache them (one instance per related row), in one prepared statement
    (`_union_of_reads`). A page of postings names a handful of partners, commodities, varieties
    and units: Django's four prefetches took 3-4 ms of a 100-row page for five of them (a query
    compiled per table, its machinery per row; issue 15). Two relations to one table (a
    posting's quantity and price units, a trade's buyer and seller) share its branch. Rows are
    read as a relation's descriptor reads them (no manager filtering); a row whose related row
    is not found is left as it was (reading it then queries and raises, as without this)."""
    nested: dict[str, list[str]] = {}
    for name in names:
        head, _, rest = name.partition("__")
        nested.setdefault(head, [])
        if rest:
            nested[head].append(rest)
    tables: dict[Any, tuple[set[Any], set[str]]] = {}  # related model -> (its ids, its joins)
    fields: list[models.ForeignKey[Any, Any]] = []
    for head, below in nested.items():
        field = model._meta.get_field(head)
        if not isinstance(field, models.ForeignKey):
            raise TypeError(f"{model._meta.label}.{head} is not a foreign key")
        ids, joins = tables.setdefault(field.related_model, (set(), set()))
        ids.update(value for row in rows if (value := getattr(row, field.attname)) is not None)
        joins.update(below)
        fields.append(field)
    reads = [
        (related, _joined_read(related, tuple(sorted(joins))), list(ids))
        for related, (ids, joins) in tables.items()
        if ids
    ]
    found: dict[Any, dict[Any, Any]] = {related: {} for related in tables}
    if reads:
        with connection.cursor() as cursor:
            sql, ids_by_name = _union_of_reads(reads)
            execute_prepared(cursor, sql, ids_by_name, bound=tuple(ids_by_name))
            rows_read = cursor.fetchall()
        # Each row: its read's number, then the columns of every read, its own in its place.
        starts = list(accumulate((read.width for _, read, _ in reads), initial=1))
        for row in rows_read:
            number = row[0]
            related, read, _ = reads[number]
            instance, _ = read.build(row[starts[number] : starts[number + 1]])
            found[related][instance.pk] = instance
    for field in fields:
        objects, attname = found[field.related_model], field.attname
        for row in rows:
            value = getattr(row, attname)
            if value is not None and (related_row := objects.get(value)) is not None:
                field.set_cached_value(row, related_row)


def _union_of_reads(reads: list[tuple[Any, JoinedRead, list[Any]]]) -> tuple[str, dict[str, list[Any]]]:
    """One statement for several tables' reads by id: a UNION ALL whose rows carry every read's
    columns, NULL but for their own, and the read's number first. One statement, not one per
    table sent together: pghistory, which puts its context before a statement while a request's
    audit context is open, keeps only the last result set of what it sends. It runs prepared
    (core.sql.execute_prepared), the ids bound: its text is the same for every page naming the
    same tables, and planning it was most of its 1.1 ms."""
    text = _union_text(tuple((related, read) for related, read, _ in reads))
    return text, {f"ids{number}": ids for number, (_, _, ids) in enumerate(reads)}


@cache
def _union_text(reads: tuple[tuple[Any, JoinedRead], ...]) -> str:
    """The text of `_union_of_reads`, written once per process for each set of tables (0.6 ms a
    page to write it again; issue 15). Each NULL is cast to its column's type (PostgreSQL types
    a UNION's columns branch by branch)."""
    nulls = [
        [f"NULL::{field.db_type(connection)}" for _, _, fields, _ in read.parts for field in fields]
        for _, read in reads
    ]
    parts = []
    for number, (related, read) in enumerate(reads):
        before = "".join(f"{null}, " for columns in nulls[:number] for null in columns)
        after = "".join(f", {null}" for columns in nulls[number + 1 :] for null in columns)
        pk = connection.ops.quote_name(related._meta.pk.column)
        parts.append(
            f"SELECT {number}, {before}{read.columns}{after}\nFROM {read.table}\n{read.joins}\nWHERE t0.{pk} = ANY(%(ids{number})s)"
        )
    return "\nUNION ALL\n".join(parts)


@cache
def _joined_read(model: type[models.Model], related: tuple[str, ...]) -> JoinedRead:
    return JoinedRead(model, related)


def big_list_rows(cl: ChangeList) -> list[ResultList]:
    """Django's `admin_list.results(cl)` for a BigListChangeList without list_editable: the same
    cells, the same HTML (held equal by apps/tradedesk/tests/test_admin_big_lists.py), but each column's
    field, method, CSS class and link worked out once a page instead of once a cell (Django's
    `lookup_field` raises and catches FieldDoesNotExist for every cell of a computed column; a
    100-row page of postings spent 25 ms in it, now about half). Anything else is Django's."""
    if getattr(cl, "formset", None) or not isinstance(cl, BigListChangeList):
        return list(admin_results(cl))
    columns = _columns(cl)
    if any(column.field is None and column.method is None for column in columns):
        return list(admin_results(cl))  # a model attribute or property as a column: Django's way
    rows = []
    for result in cl.result_list:
        rows.append(ResultList(None, [column.cell(cl, result) for column in columns]))
    return rows


class _Column:
    """One list_display column of a page, as admin_list.items_for_result treats it."""

    def __init__(self, cl: ChangeList, index: int, name: Any, *, link: bool, first_link: bool) -> None:
        self.name = name
        self.link = link
        self.table_tag = "th" if first_link else "td"
        self.class_name = f"field-{_coerce_field_name(name, index)}"
        self.empty_value_display = cl.model_admin.get_empty_value_display()
        self.field: Any = None
        self.method: Any = None  # a callable or a ModelAdmin method: value = method(obj)
        try:
            self.field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            if callable(name):
                self.method = name
            elif hasattr(cl.model_admin, name) and name != "__str__":
                self.method = getattr(cl.model_admin, name)
        self.boolean = False
        if self.method is not None:
            self.empty_value_display = getattr(self.method, "empty_value_display", self.empty_value_display)
            self.boolean = getattr(self.method, "boolean", False)
            if name == "action_checkbox" and isinstance(cl.model_admin, BigListAdminMixin):
                self.method = cl.model_admin.page_action_checkbox()
        # The cell's class attribute, as Django writes it: its field's, then "nowrap" for dates,
        # times and foreign keys (for a computed value: when the value is a date or a time).
        self.missing_class = _class_attribute([self.class_name])
        self.computed = self.method is not None or self.field.auto_created
        first = "action-checkbox" if self.computed and name == "action_checkbox" else self.class_name
        self.plain_class = _class_attribute([first])
        self.nowrap_class = _class_attribute([first, "nowrap"])
        if not self.computed and isinstance(self.field, models.DateField | models.TimeField | models.ForeignKey):
            self.plain_class = self.nowrap_class
        # A text value is shown as it is (blank: the empty value display) by a computed column
        # that is not boolean, and by a text field without choices that is not a URL field
        # (display_for_value's and display_for_field's own result); anything else: Django's way.
        self.text_as_is = (self.computed and not self.boolean) or (
            not self.computed
            and isinstance(self.field, models.CharField | models.TextField)
            and not isinstance(self.field, models.URLField)
            and not getattr(self.field, "flatchoices", None)
        )
        # A DateTimeField or a DateField without choices: its value formatted as display_for_field does.
        self.date_type: type | None = None
        if not self.computed and not getattr(self.field, "flatchoices", None):
            if isinstance(self.field, models.DateTimeField):
                self.date_type = datetime.datetime
            elif isinstance(self.field, models.DateField):
                self.date_type = datetime.date
        # A field with choices shows its choice's label: display_for_field's dict, built once a page.
        self.choices: dict[Any, Any] | None = None
        if not self.computed and getattr(self.field, "flatchoices", None):
            try:
                self.choices = dict(self.field.flatchoices)
            except TypeError:  # list-like choices: Django's way
                self.choices = None
        self._dates: dict[Any, str] = {}
        self._datetime_format: str | None = None
        self._date_format: str | None = None

    def cell(self, cl: ChangeList, result: Any) -> SafeString:
        try:
            value = self.method(result) if self.method is not None else getattr(result, self.name)
        except ObjectDoesNotExist:
            return self._wrap(cl, result, self.missing_class, self.empty_value_display)
        row_class = self.plain_class
        if self.text_as_is and (type(value) is str or type(value) is SafeString):
            # display_for_value/display_for_field of a text without choices: the text itself, or
            # the empty value display when it is blank (the common case, without their checks).
            result_repr = value if value.strip() else self.empty_value_display
            return self._wrap(cl, result, row_class, result_repr)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if self.computed:
            if type(value) is datetime.datetime and not self.boolean:
                result_repr = self._datetime_text(value)
            else:
                result_repr = display_for_value(value, self.empty_value_display, self.boolean)
            if isinstance(value, datetime.date | datetime.time):
                row_class = self.nowrap_class
        elif isinstance(self.field.remote_field, models.ManyToOneRel):
            related = getattr(result, self.field.name)
            result_repr = self.empty_value_display if related is None else related
        elif self.choices is not None and (type(value) is str or type(value) is int):
            result_repr = self.choices.get(value, self.empty_value_display)
        elif self.date_type is datetime.datetime and type(value) is datetime.datetime:
            result_repr = self._datetime_text(value)
        elif self.date_type is datetime.date and type(value) is datetime.date:
            result_repr = self._date_text(value)
        else:
            result_repr = display_for_field(value, self.field, self.empty_value_display, avoid_link=self.link)
        return self._wrap(cl, result, row_class, result_repr)

    def _datetime_text(self, value: datetime.datetime) -> str:
        """formats.localize(timezone.template_localtime(value)), as display_for_value and
        display_for_field write a datetime, with the format looked up once a page and each
        distinct value formatted once (a page often repeats a date)."""
        text = self._dates.get(value)
        if text is None:
            if self._datetime_format is None:
                self._datetime_format = get_format("DATETIME_FORMAT")
            text = self._dates[value] = dateformat.format(template_localtime(value), self._datetime_format)
        return text

    def _date_text(self, value: datetime.date) -> str:
        """formats.localize(value) of a date, as display_for_field writes a DateField's value."""
        text = self._dates.get(value)
        if text is None:
            if self._date_format is None:
                self._date_format = get_format("DATE_FORMAT")
            text = self._dates[value] = dateformat.format(value, self._date_format)
        return text

    def _wrap(self, cl: ChangeList, result: Any, row_class: Any, result_repr: Any) -> SafeString:
        # format_html's output, written directly (its lazy-string checks per argument were a
        # third of this function's time).
        if not self.link:
            return SafeString(f"<td{row_class}>{escaped(result_repr)}</td>")
        try:
            url = cl.url_for_result(result)
        except NoReverseMatch:
            link_or_text = escaped(result_repr)
        else:
            popup = ""
            if cl.is_popup:
                attname = str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
                popup = f' data-popup-opener="{escaped(result.serializable_value(attname))}"'
            link_or_text = f'<a href="{escaped(url)}"{popup}>{escaped(result_repr)}</a>'
        return SafeString(f"<{self.table_tag}{row_class}>{link_or_text}</{self.table_tag}>")


def _class_attribute(classes: list[str]) -> SafeString:
    return format_html(' class="{}"', " ".join(classes))


def _columns(cl: ChangeList) -> list[_Column]:
    columns = []
    first = True
    for index, name in enumerate(cl.list_display):
        if cl.list_display_links is None:
            link = False
        elif first and not cl.list_display_links:
            link = True
        else:
            link = name in cl.list_display_links
        columns.append(_Column(cl, index, name, link=link, first_link=link and first))
        if link:
            first = False
    return columns


class BigListAdminMixin:
    """For the ModelAdmins of lists that grow to hundreds of thousands of rows (postings,
    partners, applications): an estimated count past EXACT_COUNT_UP_TO rows (labelled "about"
    on the page), no unfiltered count beside a search, each row's links built once a page and
    its action checkbox written directly (Django renders a form widget template per row: a
    third of the rest). What the page shows and does is Django's."""

    paginator: ClassVar[type] = EstimatedCountPaginator
    # The fields a page of the list reads (its columns, its rows' links and `__str__`, with
    # `relation__field` for what a join brings); None reads every field. A field missing here is
    # a query a row: each list's test holds its queries the same for one row and for several.
    list_page_fields: tuple[str, ...] | None = None
    show_full_result_count = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BigListChangeList

    def action_checkbox(self, obj: Any) -> SafeString:
        return self.page_action_checkbox()(obj)

    def page_action_checkbox(self) -> Callable[[Any], SafeString]:
        """`action_checkbox` for the rows of one page (`big_list_rows` asks once a page): the
        label's sentence translated once, not once a row (Django's gettext was 8.5 us a call,
        0.85 ms of a 100-row page; issue 15). The HTML of Django's CheckboxInput for
        ModelAdmin.action_checkbox, without its template; the label is format_html's: the
        translated sentence with the object's text escaped in it."""
        sentence = _("Select this object for an action - {}")

        def checkbox(obj: Any) -> SafeString:
            label = sentence.format(html.escape(str(obj)))
            return SafeString(
                f'<input type="checkbox" name="{helpers.ACTION_CHECKBOX_NAME}" value="{escaped(str(obj.pk))}"'
                f' class="action-select" aria-label="{label}">'
            )

        return checkbox
