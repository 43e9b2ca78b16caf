"""Row locks of the trade desk, in one place so every service takes them in one order:
partner credit row (risk's, through `services.risk.credit_lock_for_requirement`), then
availability, then requirement, then reservation."""

from __future__ import annotations

from uuid import UUID

from apps.tradedesk.errors import AvailabilityNotFound, RequirementNotFound, ReservationNotFound
from apps.tradedesk.models import Availability, Requirement, Reservation


def lock_availability(availability_id: UUID) -> Availability:
    """SELECT ... FOR UPDATE, evaluated now (call inside transaction.atomic())."""
    availability = Availability.objects.select_for_update().filter(pk=availability_id).first()
    if availability is None:
        raise AvailabilityNotFound()
    return availability


def lock_requirement(requirement_id: UUID) -> Requirement:
    requirement = Requirement.objects.select_for_update().filter(pk=requirement_id).first()
    if requirement is None:
        raise RequirementNotFound()
    return requirement


def lock_reservation(reservation_id: UUID) -> Reservation:
    reservation = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
    if reservation is None:
        raise ReservationNotFound()
    return reservation
