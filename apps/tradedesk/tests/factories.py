"""Builders of trade-desk test data. Postings built here skip the services (for tests of later
stages: reservations, market views); tests of the transitions go through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.commodities.tests.factories import units
from apps.locations.models import Location
from apps.tradedesk.models import Availability, AvailabilityStatus, Requirement, RequirementStatus, Visibility
from apps.tradedesk.services.availabilities import AvailabilityFields
from apps.tradedesk.services.requirements import RequirementFields

COTTON_QUALITY = {"staple_length": "29.0", "micronaire": "4.2", "strength": "29.5", "trash": "3.0"}


def location(name: str = "Rajkot", *, state_code: str = "GJ", region: str = "WEST", **fields: Any) -> Location:
    found = Location.objects.filter(name=name).first()
    if found is not None:
        return found
    defaults = {"latitude": Decimal("22.303900"), "longitude": Decimal("70.802200"), "city": name}
    defaults.update(fields)
    return Location.objects.create(name=name, state_code=state_code, region=region, **defaults)


def availability(partner: Any, commodity: Any, *, kg: Decimal = Decimal("17000"), **overrides: Any) -> Availability:
    """An ACTIVE availability of `kg` (100 bales by default) at 60,000 per candy."""
    u = units()
    now = timezone.now()
    fields: dict[str, Any] = {
        "organization_id": partner.organization_id,
        "partner": partner,
        "created_by": partner.owner,
        "status": AvailabilityStatus.ACTIVE,
        "commodity": commodity,
        "quantity": kg / u["BALE"].factor_to_kg,
        "quantity_unit": u["BALE"],
        "quantity_unit_factor": u["BALE"].factor_to_kg,
        "total_kg": kg,
        "available_kg": kg,
        "price": Decimal("60000"),
        "price_unit": u["CANDY"],
        "price_unit_factor": u["CANDY"].factor_to_kg,
        "price_per_kg": Decimal("168.7194"),
        "quality": COTTON_QUALITY,
        "location": location(),
        "state_code": "GJ",
        "region": "WEST",
        "available_from": now - timedelta(hours=1),
        "available_until": now + timedelta(days=30),
        "expires_at": now + timedelta(days=30),
        "visibility": Visibility.PUBLIC,
    }
    fields.update(overrides)
    return Availability.objects.create(**fields)


def requirement(partner: Any, commodity: Any, **overrides: Any) -> Requirement:
    """An ACTIVE requirement for 50-200 bales at up to 62,000 per candy, 29 mm / mic 3.8-4.5."""
    u = units()
    now = timezone.now()
    bale = u["BALE"].factor_to_kg
    fields: dict[str, Any] = {
        "organization_id": partner.organization_id,
        "partner": partner,
        "created_by": partner.owner,
        "status": RequirementStatus.ACTIVE,
        "commodity": commodity,
        "quantity_unit": u["BALE"],
        "quantity_unit_factor": bale,
        "min_quantity": Decimal("50"),
        "max_quantity": Decimal("200"),
        "min_kg": 50 * bale,
        "max_kg": 200 * bale,
        "spec": {"staple_length": {"min": "28.5", "preferred": "29.0"}, "micronaire": {"min": "3.8", "max": "4.5"}},
        "price_unit": u["CANDY"],
        "price_unit_factor": u["CANDY"].factor_to_kg,
        "max_price": Decimal("62000"),
        "max_price_per_kg": Decimal("174.3434"),
        "delivery_from": timezone.localdate(),
        "delivery_until": timezone.localdate() + timedelta(days=45),
        "valid_from": now - timedelta(hours=1),
        "valid_until": now + timedelta(days=30),
        "state_code": "TN",
        "region": "SOUTH",
    }
    fields.update(overrides)
    return Requirement.objects.create(**fields)


# --- requirements (through the services) ----------------------------------------------------------


def financial_year(organization: Any) -> Any:
    """The organization's financial year containing today (document numbering needs one)."""
    from datetime import date

    from apps.organizations.models import FinancialYear

    today = timezone.localdate()
    start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    year, _ = FinancialYear.objects.get_or_create(
        organization_id=getattr(organization, "pk", organization),
        start_date=start,
        defaults={
            "label": f"{start.year}-{(start.year + 1) % 100:02d}",
            "end_date": date(start.year + 1, 3, 31),
            "is_active": True,
        },
    )
    return year


def coimbatore() -> Location:
    return location(
        "Coimbatore",
        state_code="TN",
        region="SOUTH",
        latitude=Decimal("11.016800"),
        longitude=Decimal("76.955800"),
    )


def tiruppur() -> Location:
    return location(
        "Tiruppur",
        state_code="TN",
        region="SOUTH",
        latitude=Decimal("11.108500"),
        longitude=Decimal("77.341100"),
    )


def requirement_input(commodity: Any, **overrides: Any) -> dict[str, Any]:
    """Service input of a mill's requirement: 50-200 bales (100 preferred) of 29 mm / mic 3.8-4.5
    cotton at up to 62,000 per candy (60,000 preferred), delivered within 50 km of Coimbatore
    or 30 km of Tiruppur in the next 45 days, valid 30 days."""
    units()
    today = timezone.localdate()
    data: dict[str, Any] = {
        "commodity_id": commodity.pk,
        "quantity_unit": "BALE",
        "min_quantity": Decimal("50"),
        "max_quantity": Decimal("200"),
        "preferred_quantity": Decimal("100"),
        "spec": {
            "staple_length": {"min": "28.5", "preferred": "29.0"},
            "micronaire": {"min": "3.8", "max": "4.5"},
        },
        "price_unit": "CANDY",
        "max_price": Decimal("62000"),
        "preferred_price": Decimal("60000"),
        "delivery_locations": [
            {"location_id": coimbatore().pk, "radius_km": Decimal("50")},
            {"location_id": tiruppur().pk, "radius_km": Decimal("30")},
        ],
        "delivery_from": today + timedelta(days=7),
        "delivery_until": today + timedelta(days=45),
        "urgency": "NORMAL",
        "visibility": "PUBLIC",
        "valid_until": timezone.now() + timedelta(days=30),
    }
    data.update(overrides)
    return data


def requirement_fields(commodity: Any, **overrides: Any) -> RequirementFields:
    """`requirement_input` as the service's typed input."""
    return RequirementFields(**requirement_input(commodity, **overrides))


# --- availabilities (through the services) --------------------------------------------------------


def availability_input(commodity: Any, **overrides: Any) -> dict[str, Any]:
    """Service input of a ginner's offer: 100 bales of Shankar-6 from Rajkot (minimum order 10
    bales) at 60,000 per candy, 29 mm / mic 4.2 / 29.5 g/tex / 3% trash, available now for 30 days."""
    units()
    now = timezone.now()
    data: dict[str, Any] = {
        "commodity_id": commodity.pk,
        "variety_id": commodity.varieties.get(code="SHANKAR-6").pk,
        "quantity": Decimal("100"),
        "quantity_unit": "BALE",
        "min_order": Decimal("10"),
        "price": Decimal("60000"),
        "price_unit": "CANDY",
        "quality": dict(COTTON_QUALITY),
        "location_id": location().pk,
        "available_from": now - timedelta(minutes=5),
        "available_until": now + timedelta(days=30),
    }
    data.update(overrides)
    return data


def availability_fields(commodity: Any, **overrides: Any) -> AvailabilityFields:
    """`availability_input` as the service's typed input."""
    return AvailabilityFields(**availability_input(commodity, **overrides))
