"""Rows of the trade-desk benchmarks (market_list, reservations): partners with their owners in
an organization of this run, availabilities in bulk, and the cleanup of all of it.

Partners are written as rows (ACTIVE, KYC verified, buy and sell), not through onboarding: the
benchmarks measure the market and reservations, not onboarding, and every row they write is
found again by this run's organization for deletion. The master data they point at (the COTTON
commodity, its units, gazetteer locations) is the configured database's own; where it is
missing the master seeders load it first (reference data, idempotent and safe in production:
the only rows a benchmark run leaves behind, reported as `masters_seeded`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bench.common import RUN_TAG, execute

BALE_KG = Decimal("170")
CANDY_KG = Decimal("355.62")
PER_KG_PLACES = Decimal("0.0001")


@dataclass
class Masters:
    commodity: Any
    varieties: dict[str, Any]
    units: dict[str, Any]
    locations: dict[str, Any]  # gazetteer town name -> Location
    seeded: bool


TOWNS = ("Rajkot", "Amreli", "Kadi", "Akola", "Adilabad", "Coimbatore")


def ensure_masters() -> Masters:
    """COTTON with its varieties, BALE and CANDY, and the gazetteer towns; loaded by the master
    seeders when missing."""
    from apps.commodities.models import Commodity, Unit, Variety
    from apps.locations.models import Location

    def load() -> Masters | None:
        commodity = Commodity.objects.filter(code="COTTON", is_active=True).first()
        units = {u.code: u for u in Unit.objects.filter(code__in=["KG", "BALE", "CANDY"])}
        locations = {
            town: Location.objects.filter(place_id=f"gaz:{town.lower()}", is_active=True).first() for town in TOWNS
        }
        if commodity is None or len(units) < 3 or not all(locations.values()):
            return None
        varieties = {v.code: v for v in Variety.objects.filter(commodity=commodity, is_active=True)}
        if not {"SHANKAR-6", "DCH-32"} <= set(varieties):
            return None
        return Masters(commodity, varieties, units, locations, seeded=False)  # type: ignore[arg-type]

    masters = load()
    if masters is not None:
        return masters
    from apps.commodities.seed import seed_commodities
    from apps.core.seeding import SeedReport
    from apps.locations.seed import seed_locations

    with transaction.atomic():
        seed_locations(SeedReport())
        seed_commodities(SeedReport())
    masters = load()
    if masters is None:
        raise RuntimeError("the master seeders did not load COTTON, BALE/CANDY and the gazetteer towns")
    masters.seeded = True
    return masters


@dataclass
class BenchPartner:
    partner: Any
    owner: Any


def create_partners(organization: Any, names: list[tuple[str, str]], *, role: str = "OWNER") -> list[BenchPartner]:
    """ACTIVE, KYC-verified partners allowed to buy and sell, one owner each (an external user of
    the organization with the membership and the role's object permissions). `names`: (legal
    name, GST state code)."""
    from django.contrib.auth.hashers import make_password

    from apps.accounts.models import User, UserType
    from apps.partners.models import BusinessPartner, KycStatus, PartnerMembership, PartnerStatus, RiskCategory
    from apps.partners.permissions import grant_partner_role

    capabilities = {"buy": True, "sell": True, "import": False, "export": False}
    today = timezone.localdate()
    created = []
    with transaction.atomic():
        for n, (legal_name, state_code) in enumerate(names, start=1):
            partner = BusinessPartner.objects.create(
                organization=organization,
                code=f"BP-{n:06d}",
                entity_class="BUSINESS_ENTITY",
                business_type="PRIVATE_LIMITED",
                legal_name=f"{legal_name} (bench {RUN_TAG})",
                state_code=state_code,
                status=PartnerStatus.ACTIVE,
                kyc_status=KycStatus.VERIFIED,
                kyc_verified_at=timezone.now(),
                kyc_expires_on=today + timedelta(days=365),
                risk_category=(RiskCategory.LOW, RiskCategory.MEDIUM)[n % 2],
                derived_capabilities=capabilities,
                trading_capabilities=capabilities,
            )
            owner = User.objects.create(
                user_type=UserType.EXTERNAL,
                organization=organization,
                email=f"bench-{RUN_TAG}-partner-{n}@bench.invalid",
                full_name=f"Bench owner {n}",
                password=make_password(None),
                is_active=True,
                is_verified=True,
            )
            PartnerMembership.objects.create(user=owner, partner=partner, role=role)
            grant_partner_role(owner, partner, role)
            created.append(BenchPartner(partner, owner))
    return created


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def build_availabilities(
    count: int, *, organization: Any, sellers: list[BenchPartner], masters: Masters, seed: int = 6, start: int = 0
) -> list[Any]:
    """`count` ACTIVE availabilities (unsaved) spread over the sellers: 50-500 bales at
    55,000-62,000 per candy, Shankar-6 mostly (some DCH-32), staple 28-31 mm, mic 3.6-4.8;
    90% PUBLIC, 5% RESTRICTED (nobody invited), 5% PRIVATE; available for 30 days. `start`: the
    first row's number (to add rows to an earlier batch)."""
    from apps.tradedesk.models import Availability, AvailabilityStatus, Visibility

    rng = random.Random(seed)
    now = timezone.now()
    bale, candy = masters.units["BALE"], masters.units["CANDY"]
    shankar, dch = masters.varieties["SHANKAR-6"], masters.varieties["DCH-32"]
    towns = list(masters.locations.values())
    rows = []
    for i in range(start, start + count):
        seller = sellers[i % len(sellers)]
        location = towns[i % len(towns)]
        bales = Decimal(rng.randrange(50, 501, 10))
        price = Decimal(rng.randrange(55000, 62001, 100))
        total_kg = bales * BALE_KG
        pick = rng.random()
        visibility = Visibility.PUBLIC if pick < 0.9 else Visibility.RESTRICTED if pick < 0.95 else Visibility.PRIVATE
        quality = {
            "staple_length": _plain(Decimal(rng.randrange(280, 311, 5)) / 10),
            "micronaire": _plain(Decimal(rng.randrange(36, 49)) / 10),
            "strength": _plain(Decimal(rng.randrange(280, 321, 5)) / 10),
            "trash": _plain(Decimal(rng.randrange(20, 41)) / 10),
        }
        rows.append(
            Availability(
                organization=organization,
                partner=seller.partner,
                number=f"AV/BENCH/{i + 1:06d}",
                created_by=seller.owner,
                status=AvailabilityStatus.ACTIVE,
                commodity=masters.commodity,
                variety=shankar if i % 10 else dch,
                quantity=bales,
                quantity_unit=bale,
                quantity_unit_factor=BALE_KG,
                total_kg=total_kg,
                available_kg=total_kg,
                min_order_kg=min(total_kg, 25 * BALE_KG),
                price=price,
                price_unit=candy,
                price_unit_factor=CANDY_KG,
                price_per_kg=(price / CANDY_KG).quantize(PER_KG_PLACES),
                quality=quality,
                location=location,
                state_code=location.state_code,
                region=location.region,
                available_from=now - timedelta(hours=1),
                available_until=now + timedelta(days=30),
                expires_at=now + timedelta(days=30),
                visibility=visibility,
                submitted_at=now - timedelta(hours=1),
                decided_at=now - timedelta(minutes=30),
            )
        )
    return rows


def insert_availabilities(rows: list[Any], *, batch_size: int = 2000) -> None:
    from apps.tradedesk.models import Availability

    for start in range(0, len(rows), batch_size):
        with transaction.atomic():
            Availability.objects.bulk_create(rows[start : start + batch_size], batch_size=batch_size)


def delete_tradedesk_rows(organization_id: Any) -> dict[str, int]:
    """Everything of this run's organization: reservations, availabilities, their audit rows and
    outbox events, the partners, their memberships, object permissions and role groups. Users and
    the organization itself go with `common.delete_organizations_and_users`."""
    from apps.accounts.models import User
    from apps.partners.models import BusinessPartner, BusinessPartnerUserObjectPermission, PartnerMembership
    from apps.tradedesk.models import Availability, Reservation

    deleted: dict[str, int] = {}
    if organization_id is None:
        return deleted
    availability_ids = "SELECT id FROM tradedesk_availability WHERE organization_id = %s"
    reservation_ids = f"SELECT id FROM tradedesk_reservation WHERE availability_id IN ({availability_ids})"
    with transaction.atomic():
        execute(f"DELETE FROM tradedesk_reservationevent WHERE pgh_obj_id IN ({reservation_ids})", [organization_id])
        deleted["reservations"] = Reservation.objects.filter(availability__organization_id=organization_id).delete()[0]
        execute(f"DELETE FROM tradedesk_availabilityevent WHERE pgh_obj_id IN ({availability_ids})", [organization_id])
        Availability.invited_partners.through.objects.filter(availability__organization_id=organization_id).delete()
        deleted["availabilities"] = execute(
            "DELETE FROM tradedesk_availability WHERE organization_id = %s", [organization_id]
        )
        own_events = "SELECT id FROM events_outboxevent WHERE organization_id = %s"
        execute(f"DELETE FROM events_handlerrun WHERE event_id IN ({own_events})", [organization_id])
        deleted["events"] = execute("DELETE FROM events_outboxevent WHERE organization_id = %s", [organization_id])
        partners = BusinessPartner.objects.filter(organization_id=organization_id)
        users = User.objects.filter(organization_id=organization_id, email__startswith=f"bench-{RUN_TAG}-")
        BusinessPartnerUserObjectPermission.objects.filter(content_object__in=partners).delete()
        User.groups.through.objects.filter(user__in=users).delete()
        membership_ids = list(PartnerMembership.objects.filter(partner__in=partners).values_list("id", flat=True))
        execute("DELETE FROM partners_partnermembershipevent WHERE pgh_obj_id = ANY(%s)", [membership_ids])
        PartnerMembership.objects.filter(id__in=membership_ids).delete()
        partner_ids = list(partners.values_list("id", flat=True))
        execute("DELETE FROM partners_businesspartnerevent WHERE pgh_obj_id = ANY(%s)", [partner_ids])
        deleted["partners"] = execute("DELETE FROM partners_businesspartner WHERE id = ANY(%s)", [partner_ids])
    return deleted


def vacuum_tradedesk() -> None:
    """Keep one benchmark's dead rows from slowing the next (autocommit: no transaction)."""
    import contextlib

    from django.db import connection

    with contextlib.suppress(Exception), connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) tradedesk_availability")
        cursor.execute("VACUUM (ANALYZE) tradedesk_availabilityevent")
        cursor.execute("VACUUM (ANALYZE) tradedesk_reservation")
