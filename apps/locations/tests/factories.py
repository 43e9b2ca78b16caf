from decimal import Decimal

import factory

from apps.locations.models import Location, LocationSource


class LocationFactory(factory.django.DjangoModelFactory):
    """A manually entered Gujarat town (the region and state name are derived on save)."""

    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Town {n:03d}")
    place_id = None
    city = factory.LazyAttribute(lambda o: o.name)
    district = "Rajkot"
    state_code = "GJ"
    pincode = "360001"
    latitude = Decimal("22.303900")
    longitude = Decimal("70.802200")
    source = LocationSource.MANUAL
