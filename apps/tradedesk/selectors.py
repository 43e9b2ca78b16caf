"""Reads of the trade desk, scoped to the caller: a lookup outside the caller's scope answers 404,
inside it without the right 403 (ARCHITECTURE section 7)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User, UserType
from apps.commodities.models import Commodity, Variety
from apps.core.errors import PermissionDenied
from apps.partners.models import BusinessPartner
from apps.partners.selectors import partner_id_of
from apps.tradedesk.errors import AvailabilityNotFound, RequirementNotFound, ReservationNotFound
from apps.tradedesk.models import (
    Availability,
    AvailabilityStatus,
    Requirement,
    RequirementDeliveryLocation,
    RequirementStatus,
    Reservation,
)

# --- requirements -------------------------------------------------------------------------------

VIEW_REQUIREMENT = "tradedesk.view_requirement"
# Requirements that hold their delivery locations (locations.references): not yet closed.
OPEN_REQUIREMENT_STATES = (RequirementStatus.DRAFT, RequirementStatus.ACTIVE, RequirementStatus.PARTIALLY_FULFILLED)


def requirements_visible_to(user: User) -> QuerySet[Requirement]:
    """The requirements a user may read in full: staff of the organization holding
    tradedesk.view_requirement (403 without it), every member of the buyer partner (a viewer
    too), all for a platform admin. Anyone else: none. (The anonymous market is another view.)"""
    if user.user_type == UserType.SUPER_ADMIN:
        return Requirement.objects.all()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        if not user.has_perm(VIEW_REQUIREMENT):
            raise PermissionDenied(f"Reading requirements needs the {VIEW_REQUIREMENT} capability.")
        return Requirement.objects.filter(organization_id=user.organization_id)
    partner_id = partner_id_of(user)
    if partner_id is None or user.organization_id is None:
        return Requirement.objects.none()
    return Requirement.objects.filter(partner_id=partner_id, organization_id=user.organization_id)


def with_requirement_details(requirements: QuerySet[Requirement]) -> QuerySet[Requirement]:
    """Everything the requirement output shows, in a constant number of queries per page."""
    return requirements.select_related(
        "commodity", "variety", "quantity_unit", "price_unit", "payment_term", "delivery_term"
    ).prefetch_related(
        Prefetch(
            "delivery_locations",
            queryset=RequirementDeliveryLocation.objects.select_related("location").order_by("created_at", "id"),
        ),
        Prefetch("invited_partners", queryset=BusinessPartner.objects.only("id").order_by("id")),
    )


def requirement_get(user: User, requirement_id: UUID) -> Requirement:
    requirement = with_requirement_details(requirements_visible_to(user)).filter(pk=requirement_id).first()
    if requirement is None:
        raise RequirementNotFound()
    return requirement


def requirements_at_location_count(location_id: Any) -> int:
    """Open requirements delivering to a location (the locations deactivation guard)."""
    return (
        Requirement.objects.filter(status__in=OPEN_REQUIREMENT_STATES, delivery_locations__location_id=location_id)
        .distinct()
        .count()
    )


# --- availabilities and reservations -----------------------------------------------------------

VIEW_AVAILABILITY = "tradedesk.view_availability"


def availabilities_visible_to(
    user: User,
    *,
    status: str | None = None,
    commodity_id: UUID | None = None,
    partner_id: UUID | None = None,
) -> QuerySet[Availability]:
    """The availabilities a user may read in full: staff of the organization holding
    tradedesk.view_availability (403 without it), every member of the seller partner (a viewer
    too), all for a platform admin. Anyone else: none. (The anonymous market is another view.)"""
    if user.user_type == UserType.SUPER_ADMIN:
        availabilities = Availability.objects.all()
    elif user.user_type == UserType.INTERNAL and user.organization_id is not None:
        if not user.has_perm(VIEW_AVAILABILITY):
            raise PermissionDenied(f"Reading availabilities needs the {VIEW_AVAILABILITY} capability.")
        availabilities = Availability.objects.filter(organization_id=user.organization_id)
    else:
        own_partner_id = partner_id_of(user)
        if own_partner_id is None or user.organization_id is None:
            return Availability.objects.none()
        availabilities = Availability.objects.filter(partner_id=own_partner_id, organization_id=user.organization_id)
    if status is not None:
        availabilities = availabilities.filter(status=status)
    if commodity_id is not None:
        availabilities = availabilities.filter(commodity_id=commodity_id)
    if partner_id is not None:
        availabilities = availabilities.filter(partner_id=partner_id)
    return availabilities


def with_availability_details(availabilities: QuerySet[Availability]) -> QuerySet[Availability]:
    """Everything the availability output shows, in a constant number of queries per page."""
    return availabilities.select_related(
        "commodity", "variety", "quantity_unit", "price_unit", "location", "delivery_term"
    ).prefetch_related(Prefetch("invited_partners", queryset=BusinessPartner.objects.only("id").order_by("id")))


def availability_get(user: User, availability_id: UUID) -> Availability:
    availability = with_availability_details(availabilities_visible_to(user)).filter(pk=availability_id).first()
    if availability is None:
        raise AvailabilityNotFound()
    return availability


def availabilities_visible_to_staff(user: User) -> QuerySet[Availability]:
    """The back-office queue: the staff member's organization's availabilities (every
    organization's for a platform admin); nobody else's."""
    if user.user_type == UserType.SUPER_ADMIN:
        return Availability.objects.all()
    if user.user_type == UserType.INTERNAL and user.organization_id is not None:
        return Availability.objects.filter(organization_id=user.organization_id)
    return Availability.objects.none()


def reservation_get_for_desk(user: User, reservation_id: UUID) -> Reservation:
    """A reservation for the desk: staff of its availability's organization (404 otherwise)."""
    reservation = (
        Reservation.objects.select_related("availability")
        .filter(pk=reservation_id, availability__in=availabilities_visible_to_staff(user))
        .first()
    )
    if reservation is None:
        raise ReservationNotFound()
    return reservation


# Availabilities that hold their ship-from location (locations.references): not yet closed.
OPEN_AVAILABILITY_STATES = (
    AvailabilityStatus.DRAFT,
    AvailabilityStatus.PENDING_APPROVAL,
    AvailabilityStatus.ACTIVE,
    AvailabilityStatus.RESERVED,
)


def availabilities_at_location_count(location_id: Any) -> int:
    """Open availabilities shipping from a location (the locations deactivation guard)."""
    return Availability.objects.filter(status__in=OPEN_AVAILABILITY_STATES, location_id=location_id).count()


# --- the back office's posting search -----------------------------------------------------------

# A search word matching more partners than this finds their postings among the first ones only
# (a word that broad is no search; the number still matches in full).
PARTNER_MATCHES_MAX = 1000


def search_word_matches(user: Any, term: str, *, varieties: bool, commodities: bool) -> dict[str, list[Any]]:
    """The ids of what a back-office search word matches, by kind ("partner", "variety",
    "commodity"), up to PARTNER_MATCHES_MAX of each: the partners `user` may see (every
    organization's for a platform admin, else the user's organization's; none without one) whose
    code or legal name holds `term` in any case, and, where asked, the varieties and commodities
    whose name does.

    One statement written here, the term bound as the ORM's `icontains` binds it (`UPPER(col)
    LIKE UPPER('%term%')`, wildcards escaped by `prep_for_like_query`): the ORM built and compiled
    the same UNION for 1 ms and read it back for another 0.9 ms, of 2.5 ms (issue 15). Not
    prepared: a generic plan would not know how selective the term is. test_admin_big_lists.py
    holds the answer equal to the ORM's for terms with wildcards, quotes and other scripts."""
    organization_id = getattr(user, "organization_id", None)
    is_admin = isinstance(user, User) and user.user_type == UserType.SUPER_ADMIN
    branches = []
    if is_admin or (isinstance(user, User) and organization_id is not None):
        scoped = "" if is_admin else "organization_id = %(organization)s AND "
        branches.append(
            f"(SELECT 'partner', id FROM {BusinessPartner._meta.db_table} WHERE {scoped}"  # noqa: S608 (no value in the text)
            "(UPPER(code::text) LIKE UPPER(%(pattern)s) OR UPPER(legal_name::text) LIKE UPPER(%(pattern)s)) "
            "LIMIT %(most)s)"
        )
    for wanted, kind, table in ((varieties, "variety", Variety), (commodities, "commodity", Commodity)):
        if wanted:
            branches.append(
                f"(SELECT '{kind}', id FROM {table._meta.db_table} "  # noqa: S608 (no value in the text)
                "WHERE UPPER(name::text) LIKE UPPER(%(pattern)s) LIMIT %(most)s)"
            )
    found: dict[str, list[Any]] = {"partner": [], "variety": [], "commodity": []}
    if not branches:
        return found
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(branches),
            {
                "organization": organization_id,
                "pattern": f"%{connection.ops.prep_for_like_query(term)}%",
                "most": PARTNER_MATCHES_MAX,
            },
        )
        for kind, pk in cursor.fetchall():
            found[kind].append(pk)
    return found
