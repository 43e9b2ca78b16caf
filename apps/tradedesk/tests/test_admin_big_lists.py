"""The back office's big lists (issue 15): postings, partners and applications at hundreds of
thousands of rows. What staff see and can do is unchanged (the same rows, cells, links, filters,
search and organization scope); what changed is how each page is made: a count that stops at
EXACT_COUNT_UP_TO and is then an estimate labelled "about", the state filter asking per state,
rows built once a column, GIN indexes without a pending list."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin, site
from django.contrib.admin.templatetags.admin_list import results
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.core import admin as core_admin
from apps.core.admin import EstimatedCountPaginator, big_list_rows
from apps.core.india import STATES
from apps.core.tests.clients import staff_client
from apps.partners.models import BusinessPartner, DocumentStatus, DocumentType, OnboardingApplication
from apps.partners.tests import factories as partner_factories
from apps.tradedesk import selectors
from apps.tradedesk.models import Availability
from apps.tradedesk.tests import factories

pytestmark = pytest.mark.django_db

POSTINGS = "/admin/tradedesk/availability/"
PARTNERS = "/admin/partners/businesspartner/"
APPLICATIONS = "/admin/partners/onboardingapplication/"


def _everything(organization: Any) -> Client:
    """Staff of `organization` holding every capability (the lists still scope to it)."""
    return staff_client(UserFactory(organization=organization, is_superuser=True))


def _listed(client: Client, url: str, **params: str) -> list[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [str(obj.pk) for obj in response.context["cl"].result_list]


# --- the search and the scope ----------------------------------------------------------------


def test_a_posting_is_found_by_a_fragment_of_its_sellers_name_and_of_its_number(
    seller, buyer, cotton, desk_manager, foreign_partner
):
    mine = factories.availability(seller, cotton, number="AV/2026-27/004711")
    factories.availability(buyer, cotton, number="AV/2026-27/004712")
    foreign = factories.availability(foreign_partner, cotton, number="AV/2026-27/004711")
    client = staff_client(desk_manager)

    assert _listed(client, POSTINGS, q="ajkot Ginn") == [str(mine.pk)]
    assert _listed(client, POSTINGS, q="04711") == [str(mine.pk)]
    assert str(foreign.pk) not in _listed(client, POSTINGS, q=foreign_partner.legal_name[2:9])


@pytest.mark.parametrize(
    "term",
    ["Rajkot", "ajkot Ginn", "04711", "Shankar", "cotton", "AV/2026 Rajkot", '"Ginning Private"', "no such thing"],
)
def test_the_posting_search_finds_what_djangos_own_search_finds(seller, buyer, cotton, foreign_partner, term):
    """The partner, variety and commodity matched first (one statement), then the postings: the
    same postings as Django's search over the same `search_fields` with its joins."""
    from django.test import RequestFactory

    factories.availability(seller, cotton, number="AV/2026-27/004711")
    factories.availability(buyer, cotton, number="AV/2026-27/004712", variety=cotton.varieties.get(code="SHANKAR-6"))
    factories.availability(seller, cotton, number="AV/2026-27/004713", variety=None)
    factories.availability(foreign_partner, cotton, number="AV/2026-27/004714")
    posting_admin = site._registry[Availability]
    request = RequestFactory().get(POSTINGS)
    request.user = UserFactory(organization=seller.organization, is_superuser=True)
    scoped = posting_admin.get_queryset(request)

    ours, _ = posting_admin.get_search_results(request, scoped, term)
    djangos, _ = ModelAdmin.get_search_results(posting_admin, request, scoped, term)

    assert sorted(str(pk) for pk in ours.values_list("pk", flat=True)) == sorted(
        {str(pk) for pk in djangos.values_list("pk", flat=True)}
    )
    assert ours.exists() is (term != "no such thing")


def test_staff_of_another_organization_find_none_of_its_postings_partners_or_applications(
    seller, cotton, other_organization
):
    factories.availability(seller, cotton, number="AV/2026-27/000001")
    application = partner_factories.application(seller.owner, legal_name="Visible Only Mills")
    client = _everything(other_organization)

    assert _listed(client, POSTINGS, queue="all") == []
    assert _listed(client, POSTINGS, q="Rajkot") == []
    assert _listed(client, POSTINGS, q="000001") == []
    assert _listed(client, PARTNERS) == []
    assert _listed(client, PARTNERS, q=seller.code) == []
    assert _listed(client, APPLICATIONS, q="Visible Only") == []
    assert _listed(_everything(seller.organization), APPLICATIONS, q="Visible Only") == [str(application.pk)]


# --- the count: exact up to a limit, then an estimate that says so -----------------------------


def test_a_list_counts_exactly_up_to_the_limit(seller, cotton, desk_manager, monkeypatch):
    monkeypatch.setattr(core_admin, "EXACT_COUNT_UP_TO", 3)
    for _ in range(3):
        factories.availability(seller, cotton)

    response = staff_client(desk_manager).get(POSTINGS, {"queue": "all"})

    cl = response.context["cl"]
    assert (cl.result_count, cl.paginator.estimated, cl.paginator.count_text) == (3, False, "3")
    assert "(estimated)" not in response.content.decode()
    assert "3 availabilities" in response.content.decode()


def test_past_the_limit_the_count_is_an_estimate_labelled_about(seller, cotton, desk_manager, monkeypatch):
    monkeypatch.setattr(core_admin, "EXACT_COUNT_UP_TO", 3)
    for _ in range(5):
        factories.availability(seller, cotton)

    response = staff_client(desk_manager).get(POSTINGS, {"queue": "all"})

    cl = response.context["cl"]
    page = response.content.decode()
    assert cl.paginator.estimated is True
    assert cl.result_count >= 4  # never below the rows it counted (3 + 1)
    assert cl.paginator.count_text == f"about {cl.result_count:,}"
    assert f"about {cl.result_count:,} availabilities (estimated)" in page
    assert f"about {cl.result_count:,} results (estimated)" in page  # the search bar's line
    assert len(cl.result_list) == 5  # the page itself is the real rows


def test_a_search_past_the_limit_says_about_n_results(seller, cotton, desk_manager, monkeypatch):
    monkeypatch.setattr(core_admin, "EXACT_COUNT_UP_TO", 2)
    for n in range(4):
        factories.availability(seller, cotton, number=f"AV/2026-27/00009{n}")

    response = staff_client(desk_manager).get(POSTINGS, {"q": "00009"})

    cl = response.context["cl"]
    assert cl.paginator.estimated is True
    assert f"{cl.paginator.count_text} results (estimated)" in response.content.decode()
    assert sorted(str(a.number) for a in cl.result_list) == [f"AV/2026-27/00009{n}" for n in range(4)]


def test_an_estimated_count_never_hides_a_page(seller, cotton, monkeypatch):
    monkeypatch.setattr(core_admin, "EXACT_COUNT_UP_TO", 2)
    for _ in range(5):
        factories.availability(seller, cotton)
    monkeypatch.setattr(core_admin, "planner_row_estimate", lambda queryset: 1)  # a low estimate
    paginator = EstimatedCountPaginator(Availability.objects.order_by("created_at", "id"), 2)

    assert (paginator.count, paginator.estimated) == (3, True)
    assert len(paginator.page(3).object_list) == 1  # past the estimate's last page
    assert len(paginator.page(4).object_list) == 0


def test_two_significant_digits():
    assert [core_admin._two_significant(n) for n in (7, 42, 1001, 49928, 200004)] == [7, 42, 1000, 50000, 200000]


# --- the rows: Django's cells, built once a column --------------------------------------------


def _django_rows(cl: Any, monkeypatch: Any) -> list[list[str]]:
    """The rows Django's own ChangeList and checkbox would render for the same page."""
    monkeypatch.setattr(cl, "preserved_filters", cl._row_filters)
    monkeypatch.setattr(cl, "url_for_result", ChangeList.url_for_result.__get__(cl))
    monkeypatch.setattr(type(cl.model_admin), "action_checkbox", ModelAdmin.action_checkbox)
    return [list(row) for row in results(cl)]


@pytest.mark.parametrize(
    "params",
    [
        {"queue": "all"},
        {"q": "AV/2026"},
        {"q": "Rajkot", "_popup": "1"},
        {"queue": "all", "o": "2"},
        {"queue": "all", "o": "-3"},
    ],
)
def test_a_page_of_postings_is_the_html_django_renders(seller, buyer, cotton, desk_manager, monkeypatch, params):
    factories.availability(seller, cotton, number="AV/2026-27/000001")
    factories.availability(buyer, cotton, number="AV/2026-27/000002", status="PENDING_APPROVAL")
    factories.availability(seller, cotton, number="AV/2026-27/000003", variety=None)
    cl = staff_client(desk_manager).get(POSTINGS, params).context["cl"]

    ours = [list(row) for row in big_list_rows(cl)]

    assert len(ours) == (2 if params.get("q") == "Rajkot" else 3)
    assert ours == _django_rows(cl, monkeypatch)


@pytest.mark.parametrize("params", [{}, {"q": "Mills"}])
def test_pages_of_partners_and_applications_are_the_html_django_renders(seller, buyer, monkeypatch, params):
    client = _everything(seller.organization)
    partner_factories.application(seller.owner, legal_name='Quote "&" <Mills>', state="SUBMITTED")
    for url in (PARTNERS, APPLICATIONS):
        cl = client.get(url, {**params, "queue": "all"} if url == APPLICATIONS else params).context["cl"]

        ours = [list(row) for row in big_list_rows(cl)]

        assert ours
        assert ours == _django_rows(cl, monkeypatch)
        monkeypatch.undo()


def test_every_kind_of_cell_is_the_html_django_renders(organization, monkeypatch):
    """The fast paths of big_list_rows (text as it is, a field's choice label, dates and times
    formatted once a page) against Django's own cells, on columns of every kind: blank and
    hostile text, choices, dates and datetimes (set, repeated and empty), a decimal, a foreign
    key, and computed values of each type."""
    from datetime import date, datetime
    from decimal import Decimal

    from django.utils.safestring import mark_safe

    first = partner_factories.approved_partner(organization, legal_name='Quote "&" <Mills>')
    second = partner_factories.approved_partner(organization, legal_name="Second Cotton Company")
    third = partner_factories.approved_partner(organization, legal_name="Third Cotton Company")
    moment = datetime(2026, 12, 7, 18, 30, 5, tzinfo=UTC)
    BusinessPartner.objects.filter(pk=first.pk).update(
        trade_name="  ", kyc_expires_on=date(2027, 3, 31), status_changed_at=moment, city="<Rajkot>"
    )
    BusinessPartner.objects.filter(pk=second.pk).update(kyc_expires_on=date(2027, 3, 31), status_changed_at=moment)
    BusinessPartner.objects.filter(pk=third.pk).update(
        kyc_expires_on=None, status_changed_at=None, master_partner=first
    )
    admin_class = type(site._registry[BusinessPartner])
    computed = {
        "blank_text": lambda self, obj: "   ",
        "safe_text": lambda self, obj: mark_safe(f"<b>{obj.code}</b>"),
        "hostile_text": lambda self, obj: "<script>&",
        "a_datetime": lambda self, obj: obj.status_changed_at,
        "a_date": lambda self, obj: obj.kyc_expires_on,
        "a_number": lambda self, obj: Decimal("1234.5"),
        "nothing": lambda self, obj: None,
        "a_flag": admin.display(boolean=True)(lambda self, obj: obj.kyc_expires_on is not None),
    }
    for name, method in computed.items():
        monkeypatch.setattr(admin_class, name, method, raising=False)
    monkeypatch.setattr(admin_class, "list_page_fields", None)
    monkeypatch.setattr(
        admin_class,
        "list_display",
        (
            *("code", "legal_name", "trade_name", "city", "status", "risk_category", "kyc_expires_on"),
            *("status_changed_at", "credit_limit", "master_partner", *computed),
        ),
    )
    cl = _everything(organization).get(PARTNERS).context["cl"]

    ours = [list(row) for row in big_list_rows(cl)]

    assert len(ours) == 3
    assert ours == _django_rows(cl, monkeypatch)
    assert '<td class="field-trade_name">-</td>' in ours[0]  # blank text: the empty value
    assert '<td class="field-city">&lt;Rajkot&gt;</td>' in ours[0]


def test_the_rows_are_written_as_the_templates_own_loop_writes_them(seller, buyer, cotton, desk_manager):
    """`results_html` (the page's rows joined in Python) against change_list_results.html's own
    loop over the same rows."""
    from django.template.loader import get_template

    from apps.core.templatetags.big_list import big_list_context

    factories.availability(seller, cotton, number="AV/2026-27/000001")
    factories.availability(buyer, cotton, number="AV/2026-27/000002", status="PENDING_APPROVAL")
    cl = staff_client(desk_manager).get(POSTINGS, {"queue": "all"}).context["cl"]
    context = big_list_context(cl)
    template = get_template("admin/change_list_results.html")

    joined = template.render(context)
    looped = template.render({**context, "results_html": None})

    assert context["results_html"]
    assert joined == looped
    assert joined.count("<tr>") == 3  # the header's and the two rows'


def test_the_action_checkbox_is_djangos(seller):
    seller.legal_name = 'Shree <b>"Rajkot"</b> & Sons'
    partner_admin = site._registry[BusinessPartner]

    assert partner_admin.action_checkbox(seller) == ModelAdmin.action_checkbox(partner_admin, seller)


def _orm_matches(partners: Any, term: str, *, varieties: bool, commodities: bool) -> dict[str, list[Any]]:
    """The reference: the ORM's UNION of each table's `icontains` match (what the admin's search
    ran before its statement was written by hand)."""
    from django.db.models import CharField, Value

    from apps.commodities.models import Commodity, Variety

    def tagged(queryset: Any, kind: str) -> Any:
        return queryset.values_list(Value(kind, output_field=CharField()), "pk")[: selectors.PARTNER_MATCHES_MAX]

    parts = [tagged(partners.filter(Q(code__icontains=term) | Q(legal_name__icontains=term)), "partner")]
    if varieties:
        parts.append(tagged(Variety.objects.filter(name__icontains=term), "variety"))
    if commodities:
        parts.append(tagged(Commodity.objects.filter(name__icontains=term), "commodity"))
    found: dict[str, list[Any]] = {"partner": [], "variety": [], "commodity": []}
    for kind, pk in parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]:
        found[kind].append(pk)
    return found


def _sorted(found: dict[str, list[Any]]) -> dict[str, list[str]]:
    return {kind: sorted(map(str, ids)) for kind, ids in found.items()}


@pytest.mark.parametrize(
    "term",
    [
        "Rajkot",
        "rAJKOT",
        "shankar",
        "COTTON",
        "BP-",
        "%",
        "_",
        "50%",
        "a_b",
        "\\",
        "'",
        '"',
        "O'Neil",
        "ગુજરાત",
        "zz-none",
        " ",
    ],
)
def test_the_matches_a_word_finds_are_the_orms(seller, buyer, cotton, foreign_partner, term):
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.tests.factories import SuperAdminFactory

    seller.legal_name = "Shree Rajkot 50% Ginning O'Neil a_b \\ ગુજરાત"
    seller.save(update_fields=["legal_name"])
    staff = UserFactory(organization=seller.organization)
    for user, partners in (
        (staff, BusinessPartner.objects.filter(organization_id=seller.organization_id)),
        (SuperAdminFactory(), BusinessPartner.objects.all()),
        (AnonymousUser(), BusinessPartner.objects.none()),  # not a user of ours: no partner
    ):
        for varieties, commodities in ((True, True), (False, False)):
            ours = selectors.search_word_matches(user, term, varieties=varieties, commodities=commodities)
            theirs = _orm_matches(partners, term, varieties=varieties, commodities=commodities)
            assert _sorted(ours) == _sorted(theirs)
    # The organization's staff never find the other organization's partner.
    everything = selectors.search_word_matches(staff, "", varieties=False, commodities=False)["partner"]
    assert foreign_partner.pk not in everything
    assert seller.pk in everything


def test_the_matches_stop_at_the_limit_for_each_table(seller, buyer, cotton, monkeypatch):
    from apps.accounts.tests.factories import SuperAdminFactory

    monkeypatch.setattr(selectors, "PARTNER_MATCHES_MAX", 1)
    found = selectors.search_word_matches(SuperAdminFactory(), "", varieties=True, commodities=True)
    assert {kind: len(ids) for kind, ids in found.items()} == {"partner": 1, "variety": 1, "commodity": 1}


def test_a_page_translates_the_checkbox_sentence_once(seller, buyer, cotton, desk_manager, monkeypatch):
    for n in range(1, 4):
        factories.availability(seller if n % 2 else buyer, cotton, number=f"AV/2026-27/00000{n}")
    cl = staff_client(desk_manager).get(POSTINGS, {"queue": "all"}).context["cl"]
    translated: list[str] = []
    gettext = core_admin._
    monkeypatch.setattr(core_admin, "_", lambda text: translated.append(text) or gettext(text))

    rows = big_list_rows(cl)

    assert len(rows) == 3
    assert translated == ["Select this object for an action - {}"]  # once a page, not once a row
    assert all(
        'class="action-select" aria-label="Select this object for an action - AV/2026-27/' in row[0] for row in rows
    )


def test_the_related_rows_statement_is_written_once_per_set_of_tables(seller, buyer, cotton):
    factories.availability(seller, cotton, number="AV/2026-27/000001")
    factories.availability(buyer, cotton, number="AV/2026-27/000002")
    core_admin._union_text.cache_clear()
    for _ in range(3):
        core_admin.attach_related(list(Availability.objects.all()), Availability, _PAGE_RELATED)
    assert core_admin._union_text.cache_info().misses == 1
    assert core_admin._union_text.cache_info().hits == 2
    rows = list(Availability.objects.order_by("number"))
    core_admin.attach_related(rows, Availability, ["partner"])  # another set of tables: its own text
    assert core_admin._union_text.cache_info().misses == 2
    assert [row.partner.legal_name for row in rows] == [seller.legal_name, buyer.legal_name]


def test_the_applications_page_reads_its_documents_in_one_query(organization, django_assert_num_queries):
    from apps.accounts.tests.factories import ExternalUserFactory

    client = _everything(organization)

    def page_queries(applications: int) -> int:
        for _ in range(applications):
            application = partner_factories.application(ExternalUserFactory(organization=organization))
            partner_factories.document(application, DocumentType.PAN_CARD)
            partner_factories.document(application, DocumentType.GST_CERTIFICATE, status=DocumentStatus.VERIFIED)
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(APPLICATIONS, {"queue": "all"})
        assert "1 pending, 1 verified" in response.content.decode()
        return len(queries.captured_queries)

    assert page_queries(1) == page_queries(3)
    assert OnboardingApplication.objects.filter(organization=organization).count() == 4


# --- the state filter ------------------------------------------------------------------------


def test_the_state_filter_offers_the_states_of_the_organizations_postings(
    seller, cotton, desk_manager, foreign_partner
):
    factories.availability(seller, cotton, state_code="GJ")
    maharashtra = factories.availability(seller, cotton, state_code="MH")
    factories.availability(seller, cotton, state_code="")
    factories.availability(foreign_partner, cotton, state_code="TN")  # another organization's
    client = staff_client(desk_manager)

    response = client.get(POSTINGS, {"queue": "all"})
    (spec,) = [s for s in response.context["cl"].filter_specs if getattr(s, "parameter_name", None) == "state_code"]

    assert spec.lookup_choices == [("", "(none)"), ("GJ", "GJ"), ("MH", "MH")]
    # The same as Django's own filter on the field read (every posting of the organization).
    scoped = Availability.objects.filter(organization=seller.organization_id)
    assert [code for code, _ in spec.lookup_choices] == sorted(set(scoped.values_list("state_code", flat=True)))
    assert _listed(client, POSTINGS, queue="all", state_code="MH") == [str(maharashtra.pk)]


def test_the_states_present_are_the_orms_distinct_states_in_every_scope(seller, cotton, foreign_partner):
    from apps.tradedesk.admin.common import state_codes_present

    for code in ("GJ", "MH", "", "GJ"):
        factories.availability(seller, cotton, state_code=code)
    factories.availability(foreign_partner, cotton, state_code="TN")
    codes = [state.code for state in STATES] + [""]

    for queryset in (
        Availability.objects.filter(organization=seller.organization_id),  # staff
        Availability.objects.all(),  # a platform admin
        Availability.objects.filter(organization=seller.organization_id, partner=foreign_partner),  # nothing
        # A literal percent sign in the SQL (`%%`) and values on both sides of the probe's own.
        Availability.objects.alias(percent=RawSQL("strpos(number || '%%', '%%')", ()))
        .filter(percent__gt=0, organization=seller.organization_id)
        .filter(Q(partner=seller) | Q(number__contains="%")),
    ):
        assert state_codes_present(queryset, codes) == set(queryset.values_list("state_code", flat=True).distinct())
    assert state_codes_present(Availability.objects.none(), codes) == set()
    assert state_codes_present(Availability.objects.all(), ["GJ", "KA"]) == {"GJ"}


def test_the_requirement_list_has_the_same_state_filter(buyer, cotton, desk_manager):
    factories.requirement(buyer, cotton)  # TN
    response = staff_client(desk_manager).get("/admin/tradedesk/requirement/")

    assert response.status_code == 200
    (spec,) = [s for s in response.context["cl"].filter_specs if getattr(s, "parameter_name", None) == "state_code"]
    assert spec.lookup_choices == [("TN", "TN")]


# --- the indexes -----------------------------------------------------------------------------


def test_the_search_indexes_keep_no_pending_list():
    names = [
        "availability_number_trgm",
        "requirement_number_trgm",
        *(f"partner_{f}_trgm" for f in ("code", "legal_name", "trade_name", "pan", "gstin")),
        *(f"application_{f}_trgm" for f in ("legal_name", "trade_name", "pan", "gstin")),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [names])
        options = dict(cursor.fetchall())

    assert options == {name: ["fastupdate=off"] for name in names}


# --- a page reads what it shows: the same queries for one row as for several ------------------


def _queries(client: Client, url: str, params: dict[str, str]) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_a_page_of_postings_costs_the_same_queries_for_one_row_as_for_many(seller, buyer, cotton, desk_manager):
    client = staff_client(desk_manager)
    factories.availability(seller, cotton, number="AV/2026-27/000001")
    one = [_queries(client, POSTINGS, params) for params in ({"queue": "all"}, {"q": "AV/2026"})]
    factories.availability(buyer, cotton, number="AV/2026-27/000002", status="PENDING_APPROVAL")
    factories.availability(seller, cotton, number="AV/2026-27/000003", variety=None)

    assert [_queries(client, POSTINGS, params) for params in ({"queue": "all"}, {"q": "AV/2026"})] == one
    assert len(_listed(client, POSTINGS, queue="all")) == 3


def test_a_page_of_partners_costs_the_same_queries_for_one_row_as_for_many(organization):
    client = _everything(organization)
    partner_factories.approved_partner(organization, legal_name="First Cotton Company")
    one = [_queries(client, PARTNERS, params) for params in ({}, {"q": "Cotton"})]
    partner_factories.approved_partner(organization, legal_name="Second Cotton Company")
    partner_factories.approved_partner(organization, legal_name="Third Cotton Company")

    assert [_queries(client, PARTNERS, params) for params in ({}, {"q": "Cotton"})] == one
    assert len(_listed(client, PARTNERS, q="Cotton")) == 3


# --- the related rows of a page: read together, as prefetch_related reads them ---------------

_PAGE_RELATED = ["partner", "commodity", "commodity__rate_unit", "variety", "quantity_unit", "price_unit"]


def _related_values(row: Any) -> dict[str, Any]:
    """Every field of each related row `_PAGE_RELATED` names (None where the key is null)."""
    values: dict[str, Any] = {}
    for name in _PAGE_RELATED:
        related = row
        for part in name.split("__"):
            related = getattr(related, part) if related is not None else None
        values[name] = (
            None if related is None else {f.attname: getattr(related, f.attname) for f in related._meta.concrete_fields}
        )
    return values


@pytest.mark.parametrize("audited", [False, True])
def test_attach_related_caches_what_prefetch_related_reads(seller, buyer, cotton, django_assert_num_queries, audited):
    """Two relations to one table (quantity and price units, different rows), one relation with
    a relation below it (the commodity's rate unit), a null key (no variety), and rows sharing
    related rows; inside a request's audit context too (pghistory puts a statement of its own
    before each one then, and keeps only the last result)."""
    import pghistory

    from apps.commodities.models import Unit

    shankar = cotton.varieties.get(code="SHANKAR-6")
    factories.availability(seller, cotton, number="AV/2026-27/000001", variety=shankar)
    factories.availability(buyer, cotton, number="AV/2026-27/000002", variety=shankar)
    factories.availability(seller, cotton, number="AV/2026-27/000003", quantity_unit=Unit.objects.get(code="KG"))
    ours = list(Availability.objects.order_by("number"))
    theirs = list(Availability.objects.order_by("number").prefetch_related(*_PAGE_RELATED))
    assert len({row.quantity_unit_id for row in ours} | {row.price_unit_id for row in ours}) == 3

    with pghistory.context(purpose="test") if audited else nullcontext(), django_assert_num_queries(1):
        core_admin.attach_related(ours, Availability, _PAGE_RELATED)
        read = [_related_values(row) for row in ours]  # nothing more is read

    assert read == [_related_values(row) for row in theirs]
    assert [value["variety"] is None for value in read] == [False, False, True]
    assert read[0]["commodity__rate_unit"] is not None
    assert ours[0].variety is ours[1].variety  # one instance per related row, as prefetch


def test_attach_related_reads_nothing_for_null_keys_and_leaves_missing_rows_alone(
    seller, cotton, django_assert_num_queries
):
    factories.availability(seller, cotton, number="AV/2026-27/000001", variety=None)
    rows = list(Availability.objects.all())

    with django_assert_num_queries(0):
        core_admin.attach_related(rows, Availability, ["variety"])
        assert rows[0].variety is None
    with django_assert_num_queries(0):
        core_admin.attach_related([], Availability, _PAGE_RELATED)


def test_a_choice_badge_is_the_state_badge_of_djangos_display():
    from apps.core.formatting import choice_badge, state_badge
    from apps.partners.models import OnboardingApplication as Application
    from apps.tradedesk.models import AvailabilityStatus

    postings = [Availability(status=value) for value in [*AvailabilityStatus.values, "NOT_A_STATE", ""]]
    applications = [Application(state=value) for value, _ in Application._meta.get_field("state").choices]

    assert [choice_badge(p, "status") for p in postings] == [
        state_badge(p.status, p.get_status_display()) for p in postings
    ]
    assert [choice_badge(a, "state") for a in applications] == [
        state_badge(a.state, a.get_state_display()) for a in applications
    ]
    assert "Pending approval" in choice_badge(postings[AvailabilityStatus.values.index("PENDING_APPROVAL")], "status")


# --- hostile query strings -------------------------------------------------------------------


def test_a_nul_in_an_admin_query_answers_400_and_the_list_still_works(seller, cotton, desk_manager):
    """PostgreSQL refuses NUL in text: a crafted filter value was a 500 from the database on any
    list (core.middleware.AdminQueryGuardMiddleware)."""
    factories.availability(seller, cotton, state_code="GJ")
    client = _everything(seller.organization)

    for url, params in [
        (PARTNERS, {"status__exact": "\x00"}),
        (POSTINGS, {"state_code": "\x00ZZ", "queue": "all"}),
        (POSTINGS, {"q": "Raj\x00kot", "queue": "all"}),
        ("/admin/tradedesk/requirement/", {"state\x00code": "GJ"}),
        ("/admin/trades/trade/", {"q": "\x00"}),
    ]:
        response = client.get(url, params)
        assert (response.status_code, response.content) == (400, b"A query parameter contains a NUL character."), url
    assert len(_listed(client, POSTINGS, state_code="GJ", queue="all")) == 1
    assert _listed(client, POSTINGS, state_code="ZZ", queue="all") == []
    assert client.get(PARTNERS, {"status__exact": "ACTIVE"}).status_code == 200
