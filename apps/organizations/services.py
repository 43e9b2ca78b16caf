"""Organization use cases. Every write emits its event in the same transaction.

Locking: every write of an organization's master data first locks the organization row
(`lock_organization`), then the rows it changes. That one lock serialises the moves of the
primary/default/active flags and the overlap check of financial years per organization; the
database constraints (models.py) back them up. Numbering (`next_document_number`) locks only the
series row it increments, so documents of different types never wait for one another.

Authorisation is the caller's (API views through selectors.organization_get, the admin through
its tenant-scoped querysets and model permissions); `actor` is who is recorded on the events.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from apps.core.errors import NotFound
from apps.core.india import INDIA_TIMEZONE, STATES_BY_CODE
from apps.core.logging import get_logger
from apps.events.emit import emit
from apps.organizations import events
from apps.organizations.errors import (
    ActiveFinancialYearRequired,
    DefaultBankAccountRequired,
    DocumentSeriesInUse,
    DocumentSeriesUnavailable,
    FieldInvalid,
    FinancialYearInUse,
    FinancialYearNotFound,
    FlagHolderRequired,
    NumberingOutsideTransaction,
    PrimaryGstRegistrationRequired,
)
from apps.organizations.models import (
    DEFAULT_PREFIXES,
    LABEL_RE,
    PREFIX_RE,
    BankAccount,
    DocumentSeries,
    DocumentType,
    FinancialYear,
    GstRegistration,
    Organization,
    format_document_number,
    mask_account_number,
)
from apps.organizations.selectors import financial_year_containing
from apps.organizations.validators import (
    normalize_identifier,
    validate_bank_account_number,
    validate_cin,
    validate_gstin,
    validate_ifsc,
    validate_pan,
)

log = get_logger(__name__)

M = TypeVar("M", bound=Model)

PROFILE_FIELDS = frozenset(
    {
        "legal_name",
        "pan",
        "cin",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "pincode",
        "contact_email",
        "contact_phone",
    }
)
UPDATABLE_FIELDS = frozenset({"name", "base_currency", "is_active", "settings", *PROFILE_FIELDS})
GST_REGISTRATION_UPDATABLE = frozenset({"is_primary", "is_active"})
BANK_ACCOUNT_UPDATABLE = frozenset({"holder_name", "bank_name", "branch", "ifsc", "is_default", "is_active"})
FINANCIAL_YEAR_UPDATABLE = frozenset({"label", "start_date", "end_date"})

_E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")


# --- helpers --------------------------------------------------------------------------------------


def lock_organization(organization_id: UUID) -> Organization:
    """SELECT ... FOR UPDATE of the organization: the first lock of every master-data write."""
    organization = Organization.objects.select_for_update().filter(pk=organization_id).first()
    if organization is None:
        raise NotFound("No such organization.")
    return organization


def _lock_child(model: type[M], *, organization_id: UUID, pk: UUID, what: str) -> M:
    row = model._default_manager.select_for_update().filter(organization_id=organization_id, pk=pk).first()
    if row is None:
        raise NotFound(f"No such {what} in this organization.")
    return row


def _refuse_unknown(changes: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")


def _full_clean(instance: Model) -> None:
    """Model validation whose refusals read like every other field error (400 validation_failed)."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        attr, messages = next(iter(exc.message_dict.items()))
        raise FieldInvalid(None if attr == "__all__" else attr, "invalid", " ".join(messages)) from exc


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _changed(instance: Model, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` of the changes that differ from the instance (JSON-safe)."""
    return {
        field: [_json(getattr(instance, field)), _json(value)]
        for field, value in changes.items()
        if getattr(instance, field) != value
    }


def _apply(instance: Model, changed: dict[str, list[Any]], changes: dict[str, Any]) -> None:
    for field in changed:
        setattr(instance, field, changes[field])
    instance.save(update_fields=[*changed, "updated_at"])


def _settle_flag(
    *,
    instance: GstRegistration | BankAccount,
    siblings: Q,
    flag: str,
    new_active: bool,
    new_flag: bool,
    flag_asked: bool,
    required: type[FlagHolderRequired],
) -> bool:
    """Whether `instance` holds the one-per-organization `flag` after a change.

    The rule: whenever the organization has an active row, exactly one active row holds the flag.
    So the first active row takes it; the holder cannot drop it (another row must take it) nor be
    deactivated while other rows are active; the last active row may be deactivated and lets it go.
    """
    model = type(instance)
    others = model._default_manager.filter(siblings).exclude(pk=instance.pk)
    holds = bool(getattr(instance, flag))
    if not new_active:
        if new_flag and flag_asked:
            raise FieldInvalid(flag, "must_be_active", f"Only an active one can be {flag[3:]}; activate it as well.")
        if holds and others.filter(is_active=True).exists():
            raise required()
        return False
    if holds and not new_flag:
        raise required()
    if not new_flag and not others.filter(**{flag: True}).exists():
        return True
    return new_flag


def _take_flag(
    model: type[GstRegistration] | type[BankAccount],
    *,
    organization_id: UUID,
    flag: str,
    keep_pk: UUID | None,
    actor: Any,
    event_type: str,
    payload: Callable[[Any], dict[str, Any]],
) -> None:
    """Clear `flag` on the organization's other rows (before it is set on `keep_pk`: the partial
    unique index is checked per statement). Each row that loses it emits `event_type`."""
    losers = model._default_manager.select_for_update().filter(organization_id=organization_id, **{flag: True})
    if keep_pk is not None:
        losers = losers.exclude(pk=keep_pk)
    for row in losers:
        setattr(row, flag, False)
        row.save(update_fields=[flag, "updated_at"])
        emit(event_type, aggregate=row, actor=actor, payload={**payload(row), "changed": {flag: [True, False]}})


# --- organization profile -------------------------------------------------------------------------


def clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    """Normalise and validate profile fields (upper-case identifiers, E.164 phone); field errors."""
    cleaned = dict(changes)
    for field in ("pan", "cin", "state"):
        if field in cleaned:
            cleaned[field] = normalize_identifier(cleaned[field])
    if cleaned.get("pan"):
        validate_pan(cleaned["pan"])
    if cleaned.get("cin"):
        validate_cin(cleaned["cin"])
    if cleaned.get("state") and cleaned["state"] not in STATES_BY_CODE:
        raise FieldInvalid("state", "unknown_state", "Use the two-letter code of an Indian state or union territory.")
    if cleaned.get("pincode"):
        cleaned["pincode"] = cleaned["pincode"].strip()
        if not _PINCODE_RE.match(cleaned["pincode"]):
            raise FieldInvalid("pincode", "invalid_pincode", "A PIN code is 6 digits and does not start with 0.")
    if cleaned.get("contact_email"):
        cleaned["contact_email"] = cleaned["contact_email"].strip().lower()
        try:
            validate_email(cleaned["contact_email"])
        except ValidationError:
            raise FieldInvalid("contact_email", "invalid_email", "Enter a valid e-mail address.") from None
    if cleaned.get("contact_phone"):
        phone = re.sub(r"[\s()-]", "", cleaned["contact_phone"])
        if re.fullmatch(r"[6-9]\d{9}", phone):
            phone = f"+91{phone}"
        elif re.fullmatch(r"0\d{10}", phone):  # Indian landline with its trunk prefix
            phone = f"+91{phone[1:]}"
        if not _E164_RE.match(phone):
            raise FieldInvalid(
                "contact_phone", "invalid_phone", "Enter the phone number with its country code, e.g. +912812345678."
            )
        cleaned["contact_phone"] = phone
    if "name" in cleaned:
        cleaned["name"] = cleaned["name"].strip()
        if not cleaned["name"]:
            raise FieldInvalid("name", "blank", "An organization needs a name.")
    return cleaned


def organization_create(
    *, code: str, name: str, legal_name: str = "", pan: str = "", actor: Any = None, **profile: Any
) -> Organization:
    _refuse_unknown(profile, PROFILE_FIELDS)
    cleaned = clean_profile({"name": name, "pan": pan, **profile})
    with transaction.atomic():
        organization = Organization(code=code.strip().upper(), legal_name=legal_name or name, **cleaned)
        _full_clean(organization)
        organization.save()
        emit(
            events.ORGANIZATION_CREATED,
            aggregate=organization,
            organization_id=organization.id,
            actor=actor,
            payload=events.organization_payload(organization),
        )
    return organization


def organization_update(*, organization_id: UUID, actor: Any = None, **changes: Any) -> Organization:
    """Change profile fields; emits `organizations.organization.updated` with what changed.

    Refuses a new PAN while active GST registrations carry the old one (a GSTIN contains its PAN).
    """
    _refuse_unknown(changes, UPDATABLE_FIELDS)
    changes = clean_profile(changes)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        changed = _changed(organization, changes)
        if not changed:
            return organization
        if "pan" in changed:
            active_gstins = GstRegistration.objects.filter(organization=organization, is_active=True)
            if any(gstin[2:12] != changes["pan"] for gstin in active_gstins.values_list("gstin", flat=True)):
                raise FieldInvalid(
                    "pan",
                    "pan_in_use_by_gstin",
                    "Active GST registrations of the organization carry another PAN; deactivate them first.",
                )
        for key in changed:
            setattr(organization, key, changes[key])
        _full_clean(organization)
        organization.save(update_fields=[*changed, "updated_at"])
        emit(
            events.ORGANIZATION_UPDATED,
            aggregate=organization,
            organization_id=organization.id,
            actor=actor,
            payload={**events.organization_payload(organization), "changed": changed},
        )
    return organization


# --- GST registrations ----------------------------------------------------------------------------


def _organization_pan(organization: Organization) -> str:
    if not organization.pan:
        raise FieldInvalid(
            "gstin",
            "organization_pan_missing",
            "Record the organization's PAN before its GST registrations: a GSTIN contains the PAN.",
        )
    return organization.pan


def gst_registration_create(
    *, organization_id: UUID, gstin: str, is_primary: bool = False, actor: Any = None
) -> GstRegistration:
    """Register a GSTIN: its pattern, state code, check digit and PAN (the organization's) are
    checked; the state comes from its first two digits. The first registration is primary;
    `is_primary=True` moves the flag from the current primary (which emits its own `updated`)."""
    gstin = normalize_identifier(gstin)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        state = validate_gstin(gstin, pan=_organization_pan(organization))
        if GstRegistration.objects.filter(organization=organization, gstin=gstin).exists():
            raise FieldInvalid("gstin", "unique", "The organization already has this GSTIN.")
        registration = GstRegistration(organization=organization, gstin=gstin, state=state.code, is_active=True)
        registration.is_primary = _settle_flag(
            instance=registration,
            siblings=Q(organization=organization),
            flag="is_primary",
            new_active=True,
            new_flag=is_primary,
            flag_asked=is_primary,
            required=PrimaryGstRegistrationRequired,
        )
        if registration.is_primary:
            _take_flag(
                GstRegistration,
                organization_id=organization.id,
                flag="is_primary",
                keep_pk=None,
                actor=actor,
                event_type=events.GST_REGISTRATION_UPDATED,
                payload=events.gst_registration_payload,
            )
        registration.save()
        emit(
            events.GST_REGISTRATION_CREATED,
            aggregate=registration,
            actor=actor,
            payload=events.gst_registration_payload(registration),
        )
    return registration


def gst_registration_update(
    *, organization_id: UUID, gst_registration_id: UUID, actor: Any = None, **changes: Any
) -> GstRegistration:
    """Make a registration primary (the flag moves) or (de)activate it. The GSTIN never changes:
    register the new one. Refuses to leave active registrations without a primary (409)."""
    _refuse_unknown(changes, GST_REGISTRATION_UPDATABLE)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        registration = _lock_child(
            GstRegistration, organization_id=organization.id, pk=gst_registration_id, what="GST registration"
        )
        if changes.get("is_active") and not registration.is_active:
            validate_gstin(registration.gstin, pan=_organization_pan(organization))
        new_active = changes.get("is_active", registration.is_active)
        changes["is_primary"] = _settle_flag(
            instance=registration,
            siblings=Q(organization=organization),
            flag="is_primary",
            new_active=new_active,
            new_flag=changes.get("is_primary", registration.is_primary),
            flag_asked="is_primary" in changes,
            required=PrimaryGstRegistrationRequired,
        )
        changed = _changed(registration, changes)
        if not changed:
            return registration
        if changes["is_primary"]:
            _take_flag(
                GstRegistration,
                organization_id=organization.id,
                flag="is_primary",
                keep_pk=registration.pk,
                actor=actor,
                event_type=events.GST_REGISTRATION_UPDATED,
                payload=events.gst_registration_payload,
            )
        _apply(registration, changed, changes)
        emit(
            events.GST_REGISTRATION_UPDATED,
            aggregate=registration,
            actor=actor,
            payload={**events.gst_registration_payload(registration), "changed": changed},
        )
    return registration


# --- bank accounts --------------------------------------------------------------------------------


def _clean_bank_fields(changes: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(changes)
    for field in ("holder_name", "bank_name", "branch"):
        if field in cleaned:
            cleaned[field] = cleaned[field].strip()
            if field != "branch" and not cleaned[field]:
                raise FieldInvalid(field, "blank", "This field may not be blank.")
    if "ifsc" in cleaned:
        cleaned["ifsc"] = normalize_identifier(cleaned["ifsc"])
        validate_ifsc(cleaned["ifsc"])
    return cleaned


def bank_account_create(
    *,
    organization_id: UUID,
    holder_name: str,
    bank_name: str,
    account_number: str,
    ifsc: str,
    branch: str = "",
    is_default: bool = False,
    actor: Any = None,
) -> BankAccount:
    """Add an account. The first one is the default; `is_default=True` moves the flag. The number
    (9-18 digits) is stored whole but leaves this function masked: in logs, events and the API."""
    account_number = re.sub(r"[\s-]", "", account_number or "")
    validate_bank_account_number(account_number)
    fields = _clean_bank_fields({"holder_name": holder_name, "bank_name": bank_name, "branch": branch, "ifsc": ifsc})
    with transaction.atomic():
        organization = lock_organization(organization_id)
        if BankAccount.objects.filter(
            organization=organization, ifsc=fields["ifsc"], account_number=account_number
        ).exists():
            raise FieldInvalid("account_number", "unique", "The organization already has this account at this branch.")
        account = BankAccount(organization=organization, account_number=account_number, is_active=True, **fields)
        account.is_default = _settle_flag(
            instance=account,
            siblings=Q(organization=organization),
            flag="is_default",
            new_active=True,
            new_flag=is_default,
            flag_asked=is_default,
            required=DefaultBankAccountRequired,
        )
        if account.is_default:
            _take_flag(
                BankAccount,
                organization_id=organization.id,
                flag="is_default",
                keep_pk=None,
                actor=actor,
                event_type=events.BANK_ACCOUNT_UPDATED,
                payload=events.bank_account_payload,
            )
        account.save()
        emit(events.BANK_ACCOUNT_CREATED, aggregate=account, actor=actor, payload=events.bank_account_payload(account))
    log.info(
        "organizations.bank_account_created",
        organization_id=str(organization.id),
        bank_account_id=str(account.id),
        account_number=mask_account_number(account.account_number),
        is_default=account.is_default,
    )
    return account


def bank_account_update(
    *, organization_id: UUID, bank_account_id: UUID, actor: Any = None, **changes: Any
) -> BankAccount:
    """Change the holder, bank, branch or IFSC, make the account the default, or (de)activate it.
    The number never changes: add the new account. Refuses to leave no default (409)."""
    _refuse_unknown(changes, BANK_ACCOUNT_UPDATABLE)
    changes = _clean_bank_fields(changes)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        account = _lock_child(BankAccount, organization_id=organization.id, pk=bank_account_id, what="bank account")
        changes["is_default"] = _settle_flag(
            instance=account,
            siblings=Q(organization=organization),
            flag="is_default",
            new_active=changes.get("is_active", account.is_active),
            new_flag=changes.get("is_default", account.is_default),
            flag_asked="is_default" in changes,
            required=DefaultBankAccountRequired,
        )
        changed = _changed(account, changes)
        if not changed:
            return account
        if "ifsc" in changed and (
            BankAccount.objects.filter(
                organization=organization, ifsc=changes["ifsc"], account_number=account.account_number
            )
            .exclude(pk=account.pk)
            .exists()
        ):
            raise FieldInvalid("ifsc", "unique", "The organization already has this account at this branch.")
        if changes["is_default"]:
            _take_flag(
                BankAccount,
                organization_id=organization.id,
                flag="is_default",
                keep_pk=account.pk,
                actor=actor,
                event_type=events.BANK_ACCOUNT_UPDATED,
                payload=events.bank_account_payload,
            )
        _apply(account, changed, changes)
        emit(
            events.BANK_ACCOUNT_UPDATED,
            aggregate=account,
            actor=actor,
            payload={**events.bank_account_payload(account), "changed": changed},
        )
    log.info(
        "organizations.bank_account_updated",
        organization_id=str(organization.id),
        bank_account_id=str(account.id),
        account_number=account.account_number_masked,
        changed=sorted(changed),
    )
    return account


# --- financial years ------------------------------------------------------------------------------


def indian_financial_year(on_date: date) -> tuple[date, date]:
    """The Indian financial year containing `on_date`: 1 April to 31 March."""
    first_year = on_date.year if on_date.month >= 4 else on_date.year - 1
    return date(first_year, 4, 1), date(first_year + 1, 3, 31)


def financial_year_label(start_date: date, end_date: date) -> str:
    """`2026-27` for a year across two calendar years, `2026` within one."""
    if start_date.year == end_date.year:
        return str(start_date.year)
    return f"{start_date.year}-{end_date.year % 100:02d}"


def india_today() -> date:
    """Today's date in India (the financial year of a document follows Indian dates)."""
    return timezone.localtime(timezone.now(), timezone=ZoneInfo(INDIA_TIMEZONE)).date()


def _year_bounds(start_date: date | None, end_date: date | None) -> tuple[date, date]:
    """Defaults: no dates -> the Indian year containing today; a start only -> one year long."""
    if start_date is None and end_date is None:
        return indian_financial_year(india_today())
    if start_date is None:
        raise FieldInvalid("start_date", "required", "Give the first day of the year with its last.")
    if end_date is None:
        if start_date.year >= date.max.year:  # a year from it would end past 9999-12-31
            raise FieldInvalid("end_date", "required", "Give the last day of a year that starts in 9999.")
        try:
            end_date = start_date.replace(year=start_date.year + 1) - timedelta(days=1)
        except ValueError:  # 29 February
            end_date = date(start_date.year + 1, 2, 28)
    if end_date <= start_date:
        raise FieldInvalid("end_date", "end_not_after_start", "A financial year ends after it starts.")
    return start_date, end_date


def _check_year_fits(
    *, organization: Organization, start_date: date, end_date: date, label: str, exclude_pk: UUID | None = None
) -> None:
    if not re.match(LABEL_RE, label):
        raise FieldInvalid("label", "invalid_label", "A label is up to 20 capitals, digits and dashes, e.g. 2026-27.")
    others = FinancialYear.objects.filter(organization=organization)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    overlapping = others.filter(start_date__lte=end_date, end_date__gte=start_date).order_by("start_date").first()
    if overlapping is not None:
        raise FieldInvalid(
            "start_date",
            "financial_year_overlaps",
            f"The year overlaps financial year {overlapping.label} "
            f"({overlapping.start_date.isoformat()} to {overlapping.end_date.isoformat()}).",
        )
    if others.filter(label=label).exists():
        raise FieldInvalid("label", "unique", f"The organization already has a financial year labelled {label}.")


def financial_year_create(
    *,
    organization_id: UUID,
    start_date: date | None = None,
    end_date: date | None = None,
    label: str = "",
    is_active: bool = False,
    actor: Any = None,
) -> FinancialYear:
    """Open a financial year (default: the Indian one containing today, 1 April to 31 March).

    Refuses overlap with another year of the organization (400 on start_date). The first year is
    active; `is_active=True` activates the new one (emitting `activated` as well as `created`).
    """
    start_date, end_date = _year_bounds(start_date, end_date)
    label = normalize_identifier(label) or financial_year_label(start_date, end_date)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        _check_year_fits(organization=organization, start_date=start_date, end_date=end_date, label=label)
        previous = FinancialYear.objects.filter(organization=organization, is_active=True).first()
        activate = is_active or not FinancialYear.objects.filter(organization=organization).exists()
        if activate and previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active", "updated_at"])
        year = FinancialYear.objects.create(
            organization=organization, label=label, start_date=start_date, end_date=end_date, is_active=activate
        )
        emit(events.FINANCIAL_YEAR_CREATED, aggregate=year, actor=actor, payload=events.financial_year_payload(year))
        if activate:
            _emit_activated(year, previous=previous, actor=actor)
    return year


def _emit_activated(year: FinancialYear, *, previous: FinancialYear | None, actor: Any) -> None:
    emit(
        events.FINANCIAL_YEAR_ACTIVATED,
        aggregate=year,
        actor=actor,
        payload={
            **events.financial_year_payload(year),
            "previous_financial_year_id": str(previous.id) if previous else None,
            "previous_label": previous.label if previous else None,
        },
    )


def financial_year_activate(*, organization_id: UUID, financial_year_id: UUID, actor: Any = None) -> FinancialYear:
    """Make this the organization's active year; the previous one stops being active. Activating
    the active year changes nothing and emits nothing."""
    with transaction.atomic():
        organization = lock_organization(organization_id)
        year = _lock_child(FinancialYear, organization_id=organization.id, pk=financial_year_id, what="financial year")
        if year.is_active:
            return year
        previous = FinancialYear.objects.select_for_update().filter(organization=organization, is_active=True).first()
        if previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active", "updated_at"])
        year.is_active = True
        year.save(update_fields=["is_active", "updated_at"])
        _emit_activated(year, previous=previous, actor=actor)
    return year


def financial_year_update(
    *, organization_id: UUID, financial_year_id: UUID, actor: Any = None, **changes: Any
) -> FinancialYear:
    """Correct a year's dates or label, only while no number has been issued in it (409 after)."""
    _refuse_unknown(changes, FINANCIAL_YEAR_UPDATABLE)
    if "is_active" in changes:
        raise ActiveFinancialYearRequired("Activate a year with its activate operation.")
    with transaction.atomic():
        organization = lock_organization(organization_id)
        year = _lock_child(FinancialYear, organization_id=organization.id, pk=financial_year_id, what="financial year")
        if "label" in changes:
            changes["label"] = normalize_identifier(changes["label"])
        changed = _changed(year, changes)
        if not changed:
            return year
        if DocumentSeries.objects.filter(financial_year=year, counter__gt=0).exists():
            raise FinancialYearInUse()
        start_date = changes.get("start_date", year.start_date)
        end_date = changes.get("end_date", year.end_date)
        if end_date <= start_date:
            raise FieldInvalid("end_date", "end_not_after_start", "A financial year ends after it starts.")
        _check_year_fits(
            organization=organization,
            start_date=start_date,
            end_date=end_date,
            label=changes.get("label", year.label),
            exclude_pk=year.pk,
        )
        _apply(year, changed, changes)
        emit(
            events.FINANCIAL_YEAR_UPDATED,
            aggregate=year,
            actor=actor,
            payload={**events.financial_year_payload(year), "changed": changed},
        )
    return year


# --- document series and numbering ----------------------------------------------------------------


def _clean_prefix(prefix: str) -> str:
    prefix = normalize_identifier(prefix)
    if not re.match(PREFIX_RE, prefix):
        raise FieldInvalid(
            "prefix",
            "invalid_prefix",
            "A prefix is 1 to 10 capitals, digits and dashes, starting with a letter or digit.",
        )
    return prefix


def _check_prefix_free(*, financial_year: FinancialYear, prefix: str, exclude_pk: UUID | None = None) -> None:
    taken = DocumentSeries.objects.filter(financial_year=financial_year, prefix=prefix)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise FieldInvalid(
            "prefix", "unique", f"Another series of financial year {financial_year.label} uses the prefix {prefix}."
        )


def document_series_create(
    *, organization_id: UUID, financial_year_id: UUID, doc_type: str, prefix: str = "", actor: Any = None
) -> DocumentSeries:
    """Open the series of one document type in one financial year (prefix default: TR, CT, INV,
    RQ, AV). Series missing when a number is asked for are opened by `next_document_number`."""
    if doc_type not in DocumentType.values:
        raise FieldInvalid("doc_type", "invalid_choice", f"Use one of {', '.join(DocumentType.values)}.")
    prefix = _clean_prefix(prefix or DEFAULT_PREFIXES[doc_type])
    with transaction.atomic():
        organization = lock_organization(organization_id)
        year = FinancialYear.objects.filter(organization=organization, pk=financial_year_id).first()
        if year is None:
            raise FieldInvalid("financial_year", "does_not_exist", "No such financial year in this organization.")
        if DocumentSeries.objects.filter(financial_year=year, doc_type=doc_type).exists():
            raise FieldInvalid(
                "doc_type", "unique", f"Financial year {year.label} already has a {doc_type.lower()} series."
            )
        _check_prefix_free(financial_year=year, prefix=prefix)
        series = DocumentSeries.objects.create(
            organization=organization, financial_year=year, doc_type=doc_type, prefix=prefix
        )
        emit(
            events.DOCUMENT_SERIES_CREATED,
            aggregate=series,
            actor=actor,
            payload=events.document_series_payload(series, financial_year_label=year.label),
        )
    return series


def document_series_update(
    *, organization_id: UUID, document_series_id: UUID, prefix: str, actor: Any = None
) -> DocumentSeries:
    """Change a series' prefix, only before its first number (409 after: printed numbers would
    change their look mid-year, and a freed prefix could be reused by another type)."""
    prefix = _clean_prefix(prefix)
    with transaction.atomic():
        organization = lock_organization(organization_id)
        series = _lock_child(
            DocumentSeries, organization_id=organization.id, pk=document_series_id, what="document series"
        )
        changed = _changed(series, {"prefix": prefix})
        if not changed:
            return series
        if series.counter > 0:
            raise DocumentSeriesInUse()
        year = series.financial_year
        _check_prefix_free(financial_year=year, prefix=prefix, exclude_pk=series.pk)
        _apply(series, changed, {"prefix": prefix})
        emit(
            events.DOCUMENT_SERIES_UPDATED,
            aggregate=series,
            actor=actor,
            payload={**events.document_series_payload(series, financial_year_label=year.label), "changed": changed},
        )
    return series


def _increment_series(*, organization_id: UUID, financial_year_id: UUID, doc_type: str) -> tuple[str, int] | None:
    """`UPDATE ... SET counter = counter + 1 ... RETURNING`: takes the series row lock until the
    caller's transaction ends, so concurrent callers queue and a rollback returns the number."""
    table = DocumentSeries._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "counter" = "counter" + 1, "updated_at" = %s '  # noqa: S608 (table name from the model)
            'WHERE "organization_id" = %s AND "financial_year_id" = %s AND "doc_type" = %s '
            'RETURNING "prefix", "counter"',
            [timezone.now(), organization_id, financial_year_id, doc_type],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _open_series_lazily(*, organization_id: UUID, financial_year: FinancialYear, doc_type: str) -> None:
    """Insert the default series unless it exists (`ON CONFLICT DO NOTHING`: a concurrent caller
    inserting the same series makes this one wait for it, then do nothing). Emits `created` only
    from the caller that inserted it."""
    table = DocumentSeries._meta.db_table
    now = timezone.now()
    prefix = DEFAULT_PREFIXES[doc_type]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("id", "created_at", "updated_at", "organization_id", "financial_year_id", '  # noqa: S608
            '"doc_type", "prefix", "counter") VALUES (%s, %s, %s, %s, %s, %s, %s, 0) '
            'ON CONFLICT DO NOTHING RETURNING "id"',
            [uuid.uuid4(), now, now, organization_id, financial_year.id, doc_type, prefix],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return
    series = DocumentSeries(
        id=inserted[0],
        organization_id=organization_id,
        financial_year=financial_year,
        doc_type=doc_type,
        prefix=prefix,
        counter=0,
    )
    emit(
        events.DOCUMENT_SERIES_CREATED,
        aggregate=series,
        payload={**events.document_series_payload(series, financial_year_label=financial_year.label), "lazy": True},
    )


def next_document_number(*, organization: Organization | UUID, doc_type: str, on_date: date) -> str:
    """The next number of `doc_type` in the organization's financial year containing `on_date`:
    `TR/2026-27/000001`.

    Runs in the caller's transaction (refused outside one): the increment commits with the
    document that uses the number, and a rollback gives it back, so numbers are gapless. The
    series row stays locked until that transaction ends: take the number last, right before
    saving the document. A series that does not exist yet is opened with the default prefix (and
    `organizations.document_series.created` emitted). Refuses a date outside every financial year
    of the organization (409 `financial_year_not_found`).
    """
    if not connection.in_atomic_block:
        raise NumberingOutsideTransaction(
            "next_document_number() must run inside the transaction that saves the document"
        )
    if doc_type not in DocumentType.values:
        raise ValueError(f"unknown document type {doc_type!r}")
    organization_id: UUID = organization.pk if isinstance(organization, Organization) else organization
    year = financial_year_containing(organization_id=organization_id, on_date=on_date)
    if year is None:
        raise FinancialYearNotFound(
            f"No financial year of the organization contains {on_date.isoformat()}; open one first."
        )
    taken = _increment_series(organization_id=organization_id, financial_year_id=year.id, doc_type=doc_type)
    if taken is None:
        _open_series_lazily(organization_id=organization_id, financial_year=year, doc_type=doc_type)
        taken = _increment_series(organization_id=organization_id, financial_year_id=year.id, doc_type=doc_type)
    if taken is None:
        raise DocumentSeriesUnavailable(
            f"Financial year {year.label} has no {doc_type.lower()} series, and its default prefix "
            f"{DEFAULT_PREFIXES[doc_type]} is used by another series; open the series with its own prefix."
        )
    prefix, counter = taken
    return format_document_number(prefix, year.label, counter)
