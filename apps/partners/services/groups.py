"""Group structure of partners (SPEC section 6), the facts behind insider relationships
(apps.partners.insiders): master/branch links and corporate groups. Back office only.

- Setting a partner's master or corporate group needs partners.change_businesspartner (desk
  managers, organization admins); creating or renaming a group needs partners.add_corporategroup /
  partners.change_corporategroup (organization admins), like the admin's add and change rights.
- Masters have ONE level: a master may not itself have a master, and a partner that is the master
  of others may not get one. That rules out every cycle, and "share a master" is exact.
  Both partner rows are locked (in id order) before the check, so two concurrent links cannot
  build a chain or a cycle together.
- Setting the value a partner already has changes nothing and emits nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.core.errors import PermissionDenied
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.organizations.models import Organization
from apps.partners import events
from apps.partners.errors import (
    CorporateGroupNameTaken,
    CorporateGroupNotFound,
    MasterHasMaster,
    MasterIsSelf,
    MasterPartnerNotFound,
    PartnerHasBranches,
    PartnerNotFound,
)
from apps.partners.models import BusinessPartner, CorporateGroup
from apps.partners.permissions import CHANGE_PARTNER, is_member_of, is_staff_of

ADD_GROUP = "partners.add_corporategroup"
CHANGE_GROUP = "partners.change_corporategroup"
REASON_MAX_LENGTH = 500
NAME_MAX_LENGTH = 200


def _ensure_back_office(actor: User, partner: BusinessPartner) -> None:
    """Staff of the partner's organization with partners.change_businesspartner. The partner's
    own users: 403 (they see their partner); anyone else: 404."""
    if is_staff_of(actor, partner.organization_id):
        if not actor.has_perm(CHANGE_PARTNER):
            raise PermissionDenied(f"Changing a partner's group structure needs the {CHANGE_PARTNER} capability.")
        return
    if is_member_of(actor, partner):
        raise PermissionDenied("A partner's master and corporate group are set by the back office only.")
    raise PartnerNotFound()


def _lock_partners(*partner_ids: UUID) -> dict[UUID, BusinessPartner]:
    """SELECT ... FOR UPDATE the partners in id order (the fixed locking order of this module)."""
    rows = BusinessPartner.objects.select_for_update().filter(pk__in=set(partner_ids)).order_by("pk")
    return {partner.pk: partner for partner in rows}


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FieldInvalid("reason", "required", "Say why the master partner changes.")
    if len(reason) > REASON_MAX_LENGTH:
        raise FieldInvalid("reason", "max_length", f"At most {REASON_MAX_LENGTH} characters.")
    return reason


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise FieldInvalid("name", "required", "A corporate group needs a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise FieldInvalid("name", "max_length", f"At most {NAME_MAX_LENGTH} characters.")
    return name


def _emit_updated(partner: BusinessPartner, actor: User, **payload: Any) -> None:
    emit(
        events.PARTNER_UPDATED,
        aggregate=partner,
        actor=actor,
        partner_id=partner.pk,
        payload={"partner_id": str(partner.pk), **payload},
    )


def partner_set_master(
    *, actor: User, partner_id: UUID, master_partner_id: UUID | None, reason: str
) -> BusinessPartner:
    """Make `master_partner_id` the master of the partner (None: the partner has no master).

    Locks both partner rows. Refuses a master outside the partner's organization (404
    master_partner_not_found), the partner itself (409 master_is_self), a master that has a
    master (409 master_has_master) and a partner that is itself a master (409
    partner_has_branches). Emits partners.partner.updated {fields: ["master_partner"],
    master_partner_id, previous_master_partner_id, reason}."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock_partners(partner_id, *([master_partner_id] if master_partner_id else []))
        partner = locked.get(partner_id)
        if partner is None:
            raise PartnerNotFound()
        _ensure_back_office(actor, partner)
        previous = partner.master_partner_id
        if master_partner_id is not None:
            master = locked.get(master_partner_id)
            if master is None or master.organization_id != partner.organization_id:
                raise MasterPartnerNotFound()
            if master.pk == partner.pk:
                raise MasterIsSelf()
            if master.master_partner_id is not None:
                raise MasterHasMaster(
                    f"{master.code} is a branch of another partner; masters have one level, choose its master."
                )
            if BusinessPartner.objects.filter(master_partner_id=partner.pk).exists():
                raise PartnerHasBranches(
                    f"{partner.code} is the master of other partners, so it cannot become a branch of {master.code}."
                )
        if previous == master_partner_id:
            return partner
        partner.master_partner_id = master_partner_id
        partner.save(update_fields=["master_partner", "updated_at"])
        _emit_updated(
            partner,
            actor,
            fields=["master_partner"],
            master_partner_id=str(master_partner_id) if master_partner_id else None,
            previous_master_partner_id=str(previous) if previous else None,
            reason=reason,
        )
    return partner


def corporate_group_create(*, actor: User, name: str, organization_id: UUID | None = None) -> CorporateGroup:
    """A corporate group of the actor's organization (a platform admin names the organization).

    Needs partners.add_corporategroup. Names are unique per organization, ignoring case and
    repeated blanks (409 corporate_group_name_taken); the organization row is locked so two
    concurrent creations of one name cannot both pass the check. Emits
    partners.corporate_group.created {corporate_group_id, name}."""
    name = _clean_name(name)
    organization_id = organization_id or actor.organization_id
    if organization_id is None or not is_staff_of(actor, organization_id):
        raise PermissionDenied("Corporate groups are created by the staff of their organization.")
    if not actor.has_perm(ADD_GROUP):
        raise PermissionDenied(f"Creating a corporate group needs the {ADD_GROUP} capability.")
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk").first()
        if CorporateGroup.objects.filter(organization_id=organization_id, name__iexact=name).exists():
            raise CorporateGroupNameTaken(f"The organization already has a corporate group named {name!r}.")
        try:
            with transaction.atomic():
                group = CorporateGroup.objects.create(organization_id=organization_id, name=name)
        except IntegrityError:
            raise CorporateGroupNameTaken() from None
        emit(
            events.CORPORATE_GROUP_CREATED,
            aggregate=group,
            actor=actor,
            payload={"corporate_group_id": str(group.pk), "name": group.name},
        )
    return group


def corporate_group_rename(*, actor: User, group_id: UUID, name: str) -> CorporateGroup:
    """Rename a group (partners.change_corporategroup; same uniqueness as creating). Staff of
    other organizations do not find it (404). Emits partners.corporate_group.renamed."""
    name = _clean_name(name)
    with transaction.atomic():
        group = CorporateGroup.objects.select_for_update().filter(pk=group_id).first()
        if group is None or not is_staff_of(actor, group.organization_id):
            raise CorporateGroupNotFound()
        if not actor.has_perm(CHANGE_GROUP):
            raise PermissionDenied(f"Renaming a corporate group needs the {CHANGE_GROUP} capability.")
        if group.name == name:
            return group
        Organization.objects.select_for_update().filter(pk=group.organization_id).values_list("pk").first()
        taken = CorporateGroup.objects.filter(organization_id=group.organization_id, name__iexact=name)
        if taken.exclude(pk=group.pk).exists():
            raise CorporateGroupNameTaken(f"The organization already has a corporate group named {name!r}.")
        previous = group.name
        group.name = name
        group.save(update_fields=["name", "updated_at"])
        emit(
            events.CORPORATE_GROUP_RENAMED,
            aggregate=group,
            actor=actor,
            payload={"corporate_group_id": str(group.pk), "name": name, "previous_name": previous},
        )
    return group


def partner_set_corporate_group(*, actor: User, partner_id: UUID, group_id: UUID | None) -> BusinessPartner:
    """Put the partner in a corporate group of its organization (None: in no group).

    Locks the partner row. Refuses a group of another organization (404
    corporate_group_not_found). Emits partners.partner.updated {fields: ["corporate_group"],
    corporate_group_id, previous_corporate_group_id}."""
    with transaction.atomic():
        partner = _lock_partners(partner_id).get(partner_id)
        if partner is None:
            raise PartnerNotFound()
        _ensure_back_office(actor, partner)
        if (
            group_id is not None
            and not CorporateGroup.objects.filter(pk=group_id, organization_id=partner.organization_id).exists()
        ):
            raise CorporateGroupNotFound()
        previous = partner.corporate_group_id
        if previous == group_id:
            return partner
        partner.corporate_group_id = group_id
        partner.save(update_fields=["corporate_group", "updated_at"])
        _emit_updated(
            partner,
            actor,
            fields=["corporate_group"],
            corporate_group_id=str(group_id) if group_id else None,
            previous_corporate_group_id=str(previous) if previous else None,
        )
    return partner
