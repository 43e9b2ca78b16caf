"""Demo postings of the trade desk: cotton availabilities of the demo ginners and requirements of
the demo mills and traders (apps/partners/seed.py), several of which will match once matching
exists (same commodity, overlapping windows, the offer's price per kg within the buyer's maximum,
its quality within the buyer's spec).

- SCH: Shankar-6 from the Rajkot and Amreli ginners (100-500 bales at 56,000-61,000 per candy,
  29-30 mm, mic 3.9-4.4, 29-31 g/tex, 2.5-3.5% trash) and DCH-32 from Kadi; requirements of the
  Coimbatore and Tiruppur mills for 29 mm / mic 3.8-4.5 at up to 60,000-62,000 per candy, delivered
  around Coimbatore and Tiruppur.
- DFT: the Adilabad and Akola ginners offer, the Warangal mill and the Guntur trader ask.

Everything goes through the services: the partner's owner keys and submits an availability and
the organization's desk manager approves it (one per organization is left waiting in the
approval queue); the owner keys and publishes a requirement. So every step is an event, in the
audit history, and numbered AV/<FY>/NNNNNN, RQ/<FY>/NNNNNN. Dates are relative to today.

Idempotent: a posting whose partner already has one with the same commodity, variety, quantity
and price (in any state) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

from django.utils import timezone

from apps.accounts.models import User, UserType
from apps.accounts.roles import Role
from apps.commodities.models import Commodity, TermKind, TradeTerm, Variety
from apps.core.seeding import SeedReport
from apps.locations.models import Location
from apps.partners.models import Branch, BusinessPartner, MembershipRole, PartnerMembership
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement, RequirementStatus
from apps.tradedesk.services import availabilities as availability_services
from apps.tradedesk.services import requirements as requirement_services

COMMODITY = "COTTON"


@dataclass(frozen=True)
class DemoAvailability:
    seller: str  # the partner's legal name (apps/partners/seed.py)
    variety: str  # variety code
    bales: D
    price_per_candy: D
    quality: dict[str, str]
    town: str  # where it ships from: the seller's branch at this gazetteer town, else the town
    days: int = 21  # available from now for this many days
    min_order_bales: D = D("25")
    partial_allowed: bool = True
    delivery_term: str = "EX_GIN"
    approve: bool = True  # False: left in the desk's approval queue


@dataclass(frozen=True)
class DemoRequirement:
    buyer: str
    min_bales: D
    max_bales: D
    preferred_bales: D | None
    max_per_candy: D
    preferred_per_candy: D | None
    spec: dict[str, dict[str, Any]]
    # (gazetteer town, radius in km); the first one is the requirement's state and region.
    delivery: tuple[tuple[str, D], ...]
    variety: str | None = None
    delivery_from_days: int = 5
    delivery_until_days: int = 40
    valid_days: int = 30
    urgency: str = "NORMAL"
    payment_term: str = "ADV10_BAL7"
    delivery_term: str = "DELIVERED"
    extra: dict[str, Any] = field(default_factory=dict)


def _quality(staple: str, mic: str, strength: str, trash: str, moisture: str = "8.0") -> dict[str, str]:
    return {"staple_length": staple, "micronaire": mic, "strength": strength, "trash": trash, "moisture": moisture}


RAJKOT = "Shree Rajkot Ginning Private Limited"
AMRELI = "Amreli Cotton Ginners LLP"
KADI = "Kadi Cotton Industries"
COIMBATORE = "Coimbatore Spinning Mills Limited"
TIRUPPUR = "Tiruppur Knit Yarns Private Limited"
ADILABAD = "Adilabad Ginning Company"
AKOLA = "Akola Cotton Processors Private Limited"
GUNTUR = "Guntur Cotton Traders"
WARANGAL = "Warangal Spinners Limited"

# A South Indian mill's usual ask for Shankar-6: 29 mm (28.5 at least), mic 3.8-4.5, 28+ g/tex.
MILL_SPEC: dict[str, dict[str, Any]] = {
    "staple_length": {"min": "28.5", "preferred": "29.0"},
    "micronaire": {"min": "3.8", "max": "4.5"},
    "strength": {"min": "28.0"},
    "trash": {"max": "4.0"},
}

AVAILABILITIES: dict[str, list[DemoAvailability]] = {
    "SCH": [
        DemoAvailability(RAJKOT, "SHANKAR-6", D("300"), D("59500"), _quality("29.5", "4.1", "30.0", "3.0"), "Rajkot"),
        DemoAvailability(
            RAJKOT, "SHANKAR-6", D("500"), D("58200"), _quality("29.0", "4.3", "29.5", "3.2"), "Rajkot", days=30
        ),
        DemoAvailability(
            RAJKOT,
            "SHANKAR-6",
            D("120"),
            D("61000"),
            _quality("30.0", "3.9", "31.0", "2.5"),
            "Rajkot",
            min_order_bales=D("120"),
            partial_allowed=False,
            days=10,
        ),
        DemoAvailability(AMRELI, "SHANKAR-6", D("200"), D("57800"), _quality("29.0", "4.4", "29.0", "3.5"), "Amreli"),
        DemoAvailability(
            AMRELI, "SHANKAR-6", D("150"), D("60400"), _quality("29.5", "4.0", "30.5", "2.8"), "Amreli", approve=False
        ),
        DemoAvailability(
            KADI,
            "DCH-32",
            D("100"),
            D("72500"),
            _quality("33.0", "3.2", "33.5", "2.5"),
            "Kadi",
            min_order_bales=D("50"),
            delivery_term="EX_WAREHOUSE",
        ),
    ],
    "DFT": [
        DemoAvailability(
            ADILABAD, "SHANKAR-6", D("250"), D("57000"), _quality("28.5", "4.2", "29.0", "3.4"), "Adilabad"
        ),
        DemoAvailability(AKOLA, "SHANKAR-6", D("400"), D("56500"), _quality("29.0", "4.4", "28.5", "3.5"), "Akola"),
        DemoAvailability(
            AKOLA, "SHANKAR-6", D("180"), D("58800"), _quality("29.5", "4.0", "30.0", "2.9"), "Akola", approve=False
        ),
    ],
}

REQUIREMENTS: dict[str, list[DemoRequirement]] = {
    "SCH": [
        DemoRequirement(
            COIMBATORE,
            D("100"),
            D("400"),
            D("250"),
            D("62000"),
            D("60000"),
            MILL_SPEC,
            (("Coimbatore", D("50")), ("Tiruppur", D("30"))),
            variety="SHANKAR-6",
            urgency="URGENT",
        ),
        DemoRequirement(
            COIMBATORE,
            D("50"),
            D("200"),
            None,
            D("61500"),
            D("59000"),
            {"staple_length": {"min": "29.5"}, "micronaire": {"min": "3.8", "max": "4.5"}, "strength": {"min": "29.5"}},
            (("Coimbatore", D("40")),),
            delivery_from_days=15,
            delivery_until_days=60,
            valid_days=45,
            urgency="PLANNING",
            payment_term="CREDIT_30",
        ),
        DemoRequirement(
            TIRUPPUR,
            D("50"),
            D("150"),
            D("100"),
            D("60000"),
            D("59000"),
            MILL_SPEC,
            (("Tiruppur", D("40")), ("Coimbatore", D("60"))),
        ),
    ],
    "DFT": [
        DemoRequirement(
            WARANGAL,
            D("100"),
            D("300"),
            D("200"),
            D("60000"),
            D("58000"),
            {"staple_length": {"min": "28.5"}, "micronaire": {"min": "3.7", "max": "4.5"}, "strength": {"min": "28.0"}},
            (("Warangal", D("75")),),
        ),
        DemoRequirement(
            GUNTUR,
            D("50"),
            D("100"),
            None,
            D("59000"),
            None,
            {"staple_length": {"min": "29.0"}, "micronaire": {"min": "3.5", "max": "4.9"}},
            (("Guntur", D("100")),),
            variety="SHANKAR-6",
            payment_term="ADVANCE_100",
            delivery_term="EX_WAREHOUSE",
        ),
    ],
}


def _staff(organization: Any, role: str) -> User:
    user = (
        User.objects.filter(organization=organization, groups__name=role, user_type=UserType.INTERNAL)
        .order_by("email")
        .first()
    )
    if user is None:
        raise RuntimeError(f"seed the accounts first: no {role} in {organization.code}")
    return user


def _partner(organization: Any, legal_name: str) -> tuple[BusinessPartner, User]:
    """The demo partner and its owner (the partners seeder made them)."""
    partner = BusinessPartner.objects.filter(organization=organization, legal_name=legal_name).first()
    if partner is None:
        raise RuntimeError(f"seed the partners first: no {legal_name} in {organization.code}")
    membership = (
        PartnerMembership.objects.select_related("user")
        .filter(partner=partner, role=MembershipRole.OWNER, is_active=True)
        .order_by("created_at")
        .first()
    )
    if membership is None:
        raise RuntimeError(f"{legal_name} has no active owner")
    return partner, membership.user


def _location(town: str) -> Location:
    location = (
        Location.objects.filter(place_id=f"gaz:{town.lower()}", is_active=True).first()
        or Location.objects.filter(name=town, is_active=True).order_by("created_at").first()
    )
    if location is None:
        raise RuntimeError(f"seed the locations first: no active location {town}")
    return location


def _term(kind: str, code: str) -> TradeTerm:
    term = TradeTerm.objects.filter(kind=kind, code=code, is_active=True).first()
    if term is None:
        raise RuntimeError(f"seed the commodities first: no {kind} term {code}")
    return term


def _variety(commodity: Commodity, code: str) -> Variety:
    variety = Variety.objects.filter(commodity=commodity, code=code, is_active=True).first()
    if variety is None:
        raise RuntimeError(f"seed the commodities first: no variety {code} of {commodity.code}")
    return variety


def _ship_from(partner: BusinessPartner, town: str) -> dict[str, Any]:
    """The seller's own active sending branch at the town (its location is the offer's), else
    the town itself."""
    location = _location(town)
    branch = (
        Branch.objects.filter(partner=partner, is_active=True, can_send=True, location=location)
        .order_by("code")
        .first()
    )
    return {"ship_from_branch_id": branch.pk} if branch is not None else {"location_id": location.pk}


def _seed_availability(
    organization: Any, commodity: Commodity, demo: DemoAvailability, desk_manager: User
) -> Availability:
    partner, owner = _partner(organization, demo.seller)
    variety = _variety(commodity, demo.variety)
    existing = Availability.objects.filter(
        partner=partner,
        commodity=commodity,
        variety=variety,
        quantity=demo.bales,
        quantity_unit__code="BALE",
        price=demo.price_per_candy,
        price_unit__code="CANDY",
    ).first()
    if existing is not None:
        return existing
    now = timezone.now()
    fields = availability_services.AvailabilityFields(
        commodity_id=commodity.pk,
        variety_id=variety.pk,
        quantity=demo.bales,
        quantity_unit="BALE",
        min_order=demo.min_order_bales,
        partial_allowed=demo.partial_allowed,
        price=demo.price_per_candy,
        price_unit="CANDY",
        quality=dict(demo.quality),
        delivery_term_id=_term(TermKind.DELIVERY, demo.delivery_term).pk,
        available_from=now,
        available_until=now + timedelta(days=demo.days),
        visibility="PUBLIC",
        **_ship_from(partner, demo.town),
    )
    availability = availability_services.availability_create(actor=owner, partner_id=partner.pk, fields=fields)
    availability = availability_services.availability_submit(actor=owner, availability_id=availability.pk)
    if demo.approve and availability.status == AvailabilityStatus.PENDING_APPROVAL:
        availability = availability_services.availability_approve(
            actor=desk_manager,
            availability_id=availability.pk,
            note="Quality report seen; rate in line with the market.",
        )
    return availability


def _seed_requirement(organization: Any, commodity: Commodity, demo: DemoRequirement) -> Requirement:
    partner, owner = _partner(organization, demo.buyer)
    variety = _variety(commodity, demo.variety) if demo.variety else None
    existing = Requirement.objects.filter(
        partner=partner,
        commodity=commodity,
        variety=variety,
        min_quantity=demo.min_bales,
        max_quantity=demo.max_bales,
        max_price=demo.max_per_candy,
    ).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    fields = requirement_services.RequirementFields(
        commodity_id=commodity.pk,
        variety_id=variety.pk if variety else None,
        quantity_unit="BALE",
        min_quantity=demo.min_bales,
        max_quantity=demo.max_bales,
        preferred_quantity=demo.preferred_bales,
        spec=demo.spec,
        price_unit="CANDY",
        max_price=demo.max_per_candy,
        preferred_price=demo.preferred_per_candy,
        delivery_locations=[
            requirement_services.DeliveryLocationInput(location_id=_location(town).pk, radius_km=radius)
            for town, radius in demo.delivery
        ],
        delivery_from=today + timedelta(days=demo.delivery_from_days),
        delivery_until=today + timedelta(days=demo.delivery_until_days),
        payment_term_id=_term(TermKind.PAYMENT, demo.payment_term).pk,
        delivery_term_id=_term(TermKind.DELIVERY, demo.delivery_term).pk,
        urgency=demo.urgency,
        visibility="PUBLIC",
        valid_until=timezone.now() + timedelta(days=demo.valid_days),
        **demo.extra,
    )
    requirement = requirement_services.requirement_create(actor=owner, partner_id=partner.pk, fields=fields)
    return requirement_services.requirement_publish(actor=owner, requirement_id=requirement.pk)


def seed_tradedesk(report: SeedReport) -> None:
    commodity = Commodity.objects.filter(code=COMMODITY).first()
    if commodity is None:
        raise RuntimeError(f"seed the commodities first: no {COMMODITY}")
    for organization in report.context["organizations"]:
        offers = AVAILABILITIES.get(organization.code, [])
        needs = REQUIREMENTS.get(organization.code, [])
        if offers:
            desk_manager = _staff(organization, Role.DESK_MANAGER)
            for offer in offers:
                _seed_availability(organization, commodity, offer, desk_manager)
        for need in needs:
            _seed_requirement(organization, commodity, need)
    # Who buys and who sells in the demo, for the seeders after this one (risk keeps them out of
    # the utilisation bands that would block their own demo deals).
    report.context["demo_buyer_ids"] = set(Requirement.objects.values_list("partner_id", flat=True))
    report.context["demo_seller_ids"] = set(Availability.objects.values_list("partner_id", flat=True))
    # The same line on every run (seed_demo's output is compared between runs).
    # Later seeders (trades) sell and fulfil some of it: held, sold or partly fulfilled still count.
    active = Availability.objects.filter(
        status__in=(AvailabilityStatus.ACTIVE, AvailabilityStatus.RESERVED, AvailabilityStatus.SOLD)
    ).count()
    pending = Availability.objects.filter(status=AvailabilityStatus.PENDING_APPROVAL).count()
    open_requirements = Requirement.objects.filter(
        status__in=(RequirementStatus.ACTIVE, RequirementStatus.PARTIALLY_FULFILLED, RequirementStatus.FULFILLED)
    ).count()
    report.lines.append(
        f"tradedesk: {active} availabilities on the market, {pending} awaiting approval, "
        f"{open_requirements} requirements open"
    )
