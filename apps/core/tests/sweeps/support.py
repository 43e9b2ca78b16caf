"""What the two permanent sweeps share (issue 14): the API routes read from the URL configuration,
a world seeded once for the package (seed_demo plus one fresh partner), and a write counter.

The routes come from Django's resolver, not from a list: a route added to any app's urlpatterns
joins both sweeps on the next run. Only the path parameters need knowing (how to name a victim's
object for `<uuid:availability_id>`); a route whose parameter is unknown fails the sweep.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    pattern: str  # Django's route text under the site root: "api/v1/trades/<uuid:trade_id>"
    view: str  # the view class, for messages
    methods: tuple[str, ...]
    parameters: tuple[str, ...]

    @property
    def key(self) -> str:
        """`trades.amendment_id`: the last parameter, qualified by the route's first segment."""
        return f"{self.segment}.{self.parameters[-1]}" if self.parameters else ""

    @property
    def segment(self) -> str:
        return self.pattern.removeprefix(API_PREFIX).split("/", 1)[0]

    def url(self, values: dict[str, str]) -> str:
        return "/" + PARAMETER.sub(lambda m: str(values[m.group("name")]), self.pattern)

    def __str__(self) -> str:
        return "/" + self.pattern


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def api_routes() -> list[Route]:
    """Every route under /api/v1/ with the methods its view implements (OPTIONS/HEAD aside)."""
    routes = []
    for pattern, entry in _walk(get_resolver().url_patterns):
        if not pattern.startswith(API_PREFIX):
            continue
        view = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
        methods = tuple(m for m in METHODS if view is not None and hasattr(view, m))
        parameters = tuple(m.group("name") for m in PARAMETER.finditer(pattern))
        name = view.__name__ if view is not None else getattr(entry.callback, "__name__", "?")
        routes.append(Route(pattern, name, methods, parameters))
    return routes


def model(label: str) -> Any:
    """A model by its app label (`tradedesk.Availability`): never by module path, which may move."""
    return apps.get_model(label)


# --- Writes ------------------------------------------------------------------------------------


def write_counts() -> dict[str, int]:
    """Rows inserted, updated and deleted so far in this transaction, per table.

    The test runs inside one transaction (pytest-django's), so Postgres's per-transaction
    statistics see every write a request made, including one rolled back to a savepoint: one cheap
    query instead of a count of every table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return dict(cursor.fetchall())


def writes_between(before: dict[str, int], after: dict[str, int], *, ignore: frozenset[str]) -> dict[str, int]:
    return {
        table: after[table] - before.get(table, 0)
        for table in after
        if after[table] != before.get(table, 0) and table not in ignore
    }


# --- The seeded world --------------------------------------------------------------------------


@dataclass
class World:
    victim_org: Any  # SCH: every swept object belongs to it
    other_org: Any  # DFT
    same_org_partner_user: Any  # the owner of a fresh SCH partner: no trade, match or negotiation with anyone
    other_org_partner_user: Any  # the owner of a DFT partner
    other_org_staff: Any  # DFT's organization admin (its strongest staff role)
    victim_partner_user: Any  # the owner of the SCH partner the victim objects mostly belong to
    platform_admin: Any
    tokens: dict[str, str] = field(default_factory=dict)  # user id -> access token
    cache: dict[str, dict[str, str]] = field(default_factory=dict)

    def token(self, user: Any) -> str:
        from apps.accounts.tokens import issue_tokens

        key = str(user.pk)
        if key not in self.tokens:
            self.tokens[key] = issue_tokens(user).access
        return self.tokens[key]


def _owner_of(partner: Any) -> Any:
    membership = model("partners.PartnerMembership").objects.filter(partner=partner, role="OWNER").first()
    assert membership is not None, f"partner {partner.pk} has no owner"
    return membership.user


def build_world() -> World:
    from apps.partners.tests.factories import approved_partner

    organization = model("organizations.Organization")
    user = model("accounts.User")
    partner = model("partners.BusinessPartner")
    sch = organization.objects.get(code="SCH")
    dft = organization.objects.get(code="DFT")
    trade = model("trades.Trade").objects.filter(organization=sch).order_by("created_at").first()
    assert trade is not None, "seed_demo made no SCH trade"
    victim_partner = partner.objects.get(pk=trade.seller_id)
    fresh = approved_partner(sch)
    other_partner = partner.objects.filter(organization=dft).order_by("code").first()
    _complete_the_victims(sch, victim_partner, trade)
    return World(
        victim_org=sch,
        other_org=dft,
        same_org_partner_user=fresh.owner,
        other_org_partner_user=_owner_of(other_partner),
        other_org_staff=user.objects.get(email="organization.admin@dft.cotton-erp.test"),
        victim_partner_user=_owner_of(victim_partner),
        platform_admin=user.objects.get(email="admin@cotton-erp.test"),
    )


def _complete_the_victims(sch: Any, victim_partner: Any, trade: Any) -> None:
    """seed_demo has no row of these kinds in SCH: one of each, owned by the victim partner."""
    from apps.tradedesk.tests.factories import requirement
    from apps.webhooks.tests.factories import WebhookEndpointFactory

    owner = _owner_of(victim_partner)
    victim_partner.owner = owner
    commodity = model("commodities.Commodity").objects.get(code="COTTON")
    requirement(victim_partner, commodity, status="DRAFT")
    address = {f: getattr(victim_partner, f) for f in ("address_line1", "city", "state_code", "pincode")}
    model("partners.PartnerAmendment").objects.create(
        partner=victim_partner,
        kind="ADDRESS",
        old_values=address,
        new_values={**address, "address_line1": f"{address['address_line1']} (swept)"},
        requested_by=owner,
    )
    model("trades.TradeAmendment").objects.create(
        trade=trade, kind="PRICE", requested_by=owner, requested_by_side="SELLER", new_values={"price": "1"}
    )
    WebhookEndpointFactory(organization_id=sch.pk, partner_id=victim_partner.pk)


@pytest.fixture(scope="package")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """seed_demo once for the sweeps package (and per xdist worker), inside a transaction rolled back at the
    end: each test's own transaction nests in it as a savepoint, so tests still start equal."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def idempotency_key() -> str:
    return uuid.uuid4().hex


# --- The victim's objects, by path parameter ----------------------------------------------------


def _first(label: str, **filters: Any) -> Any:
    found = model(label).objects.filter(**filters).order_by("created_at").first()
    assert found is not None, f"the seeded world has no {label} with {filters}: build one in _complete_the_victims"
    return found


def _partner_owned(label: str, parameter: str) -> Callable[[World], dict[str, str]]:
    def victim(w: World) -> dict[str, str]:
        row = _first(label, partner__organization=w.victim_org)
        return {"partner_id": str(row.partner_id), parameter: str(row.pk)}

    return victim


def _organization_owned(label: str, parameter: str) -> Callable[[World], dict[str, str]]:
    def victim(w: World) -> dict[str, str]:
        row = _first(label, organization=w.victim_org)
        return {"organization_id": str(w.victim_org.pk), parameter: str(row.pk)}

    return victim


def _victim_partner(w: World) -> dict[str, str]:
    return {"partner_id": str(w.victim_partner_user.partner_membership.partner_id)}


def _employee(w: World) -> dict[str, str]:
    membership = _first("partners.PartnerMembership", partner__organization=w.victim_org, role="TRADER")
    return {"partner_id": str(membership.partner_id), "user_id": str(membership.user_id)}


def _document(w: World) -> dict[str, str]:
    document = _first("partners.PartnerDocument", partner__organization=w.victim_org)
    return {"partner_id": str(document.partner_id), "document_id": str(document.pk)}


def _private_availability(w: World) -> dict[str, str]:
    # Not on the market: an ACTIVE public offer is shown (anonymously) to every partner of SCH.
    row = _first("tradedesk.Availability", organization=w.victim_org, status__in=["DRAFT", "PENDING_APPROVAL"])
    return {"availability_id": str(row.pk)}


def _private_requirement(w: World) -> dict[str, str]:
    row = _first("tradedesk.Requirement", organization=w.victim_org, status="DRAFT")
    return {"requirement_id": str(row.pk)}


def _trade_amendment(w: World) -> dict[str, str]:
    row = _first("trades.TradeAmendment", trade__organization=w.victim_org)
    return {"trade_id": str(row.trade_id), "amendment_id": str(row.pk)}


# How to name the victim's object, by the route's last path parameter, qualified by the route's
# first segment (`trades.amendment_id`, `partners.amendment_id`); `*.x` matches any segment.
VICTIMS: dict[str, Callable[[World], dict[str, str]]] = {
    "organizations.organization_id": lambda w: {"organization_id": str(w.victim_org.pk)},
    "organizations.gst_registration_id": _organization_owned("organizations.GstRegistration", "gst_registration_id"),
    "organizations.bank_account_id": _organization_owned("organizations.BankAccount", "bank_account_id"),
    "organizations.financial_year_id": _organization_owned("organizations.FinancialYear", "financial_year_id"),
    "organizations.document_series_id": _organization_owned("organizations.DocumentSeries", "document_series_id"),
    "partners.application_id": lambda w: {
        "application_id": str(_first("partners.OnboardingApplication", organization=w.victim_org).pk)
    },
    "partners.partner_id": _victim_partner,
    "partners.user_id": _employee,
    "partners.document_id": _document,
    "partners.branch_id": _partner_owned("partners.Branch", "branch_id"),
    "partners.vehicle_id": _partner_owned("partners.Vehicle", "vehicle_id"),
    "partners.amendment_id": _partner_owned("partners.PartnerAmendment", "amendment_id"),
    "risk.change_id": lambda w: {"change_id": str(_first("risk.LimitChange", organization=w.victim_org).pk)},
    "requirements.requirement_id": _private_requirement,
    "availabilities.availability_id": _private_availability,
    "reservations.reservation_id": lambda w: {
        "reservation_id": str(_first("tradedesk.Reservation", availability__organization=w.victim_org).pk)
    },
    "matches.token": lambda w: {"token": _first("matching.MatchProposal", organization=w.victim_org).token},
    "negotiations.negotiation_id": lambda w: {
        "negotiation_id": str(_first("trades.Negotiation", organization=w.victim_org).pk)
    },
    "trades.trade_id": lambda w: {"trade_id": str(_first("trades.Trade", organization=w.victim_org).pk)},
    "trades.amendment_id": _trade_amendment,
    "webhooks.endpoint_id": lambda w: {
        "endpoint_id": str(_first("webhooks.WebhookEndpoint", organization_id=w.victim_org.pk).pk)
    },
}

# Global masters (ARCHITECTURE section 7): shared by every organization, readable by every
# signed-in user by design, written only by platform admins. Their reads are swept as anonymous
# only; their writes as every caller.
SHARED_MASTERS: dict[str, Callable[[World], dict[str, str]]] = {
    "locations.location_id": lambda w: {"location_id": str(_first("locations.Location").pk)},
    "commodities.commodity_id": lambda w: {"commodity_id": str(_first("commodities.Commodity").pk)},
    "commodities.variety_id": lambda w: _child("commodities.Variety", "variety_id"),
    "commodities.parameter_id": lambda w: _child("commodities.QualityParameter", "parameter_id"),
    "commodities.schedule_id": lambda w: _child("commodities.QualitySchedule", "schedule_id"),
    "commodities.commission_id": lambda w: _child("commodities.CommissionStructure", "commission_id"),
    "terms.kind": lambda w: {"kind": "payment"},
    "terms.term_id": lambda w: _term(),
}


def _child(label: str, parameter: str) -> dict[str, str]:
    row = _first(label)
    return {"commodity_id": str(row.commodity_id), parameter: str(row.pk)}


def _term() -> dict[str, str]:
    term = _first("commodities.TradeTerm")
    return {"kind": term.kind.lower().replace("_", "-"), "term_id": str(term.pk)}


def path_values(path: str, w: World) -> str:
    """An OpenAPI path (`/api/v1/trades/{trade_id}`) with its parameters naming the victim's objects."""
    names = re.findall(r"{([^}]+)}", path)
    if not names:
        return path
    key = f"{path.removeprefix('/' + API_PREFIX).split('/', 1)[0]}.{names[-1]}"
    table = VICTIMS if key in VICTIMS else SHARED_MASTERS
    values = table[key](w)
    return re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], path)
