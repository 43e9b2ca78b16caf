"""Back office for organizations: the profile, with its GST registrations, bank accounts,
financial years and document series as inlines.

Tenant-scoped: organization staff see (and, with the permissions, edit) their own organization
only. Every save goes through the services, so flags move, checks run and events are emitted as
through the API; a refusal of a service is reported with `message_user(..., ERROR)`. Nothing here
is ever deleted, and a bank account's number is shown masked (it is typed once, when added).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest

from apps.core.actors import request_actor
from apps.core.errors import DomainError
from apps.organizations.errors import ActiveFinancialYearRequired, FieldInvalid
from apps.organizations.models import BankAccount, DocumentSeries, FinancialYear, GstRegistration, Organization
from apps.organizations.services.bank_accounts import BANK_ACCOUNT_UPDATABLE, bank_account_create, bank_account_update
from apps.organizations.services.document_series import document_series_create, document_series_update
from apps.organizations.services.financial_years import (
    FINANCIAL_YEAR_UPDATABLE,
    financial_year_activate,
    financial_year_create,
    financial_year_update,
)
from apps.organizations.services.gst_registrations import (
    GST_REGISTRATION_UPDATABLE,
    gst_registration_create,
    gst_registration_update,
)
from apps.organizations.services.organizations import (
    PROFILE_FIELDS,
    UPDATABLE_FIELDS,
    clean_profile,
    organization_create,
    organization_update,
)
from apps.organizations.validators import (
    normalize_identifier,
    validate_bank_account_number,
    validate_gstin,
    validate_ifsc,
)


def _is_platform_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_superuser or getattr(user, "user_type", None) == "SUPER_ADMIN")


def _is_new(instance: Model) -> bool:
    """Not saved yet (a UUID primary key is set before the first save, so `pk` cannot tell)."""
    return bool(instance._state.adding)


def _check(form: forms.ModelForm, check: Callable[[], Any]) -> None:
    """Run a validator; its refusal becomes an error on the form field it names."""
    try:
        check()
    except FieldInvalid as exc:
        field = exc.attr if exc.attr in form.fields else None
        form.add_error(field, exc.detail)


# --- inline forms: checks early (as field errors), saving left to the services ---------------------


class GstRegistrationInlineForm(forms.ModelForm):
    class Meta:
        model = GstRegistration
        fields = ("gstin", "is_primary", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not _is_new(self.instance):
            self.fields["gstin"].disabled = True  # a GSTIN never changes: register the new one

    def clean_gstin(self) -> str:
        return normalize_identifier(self.cleaned_data.get("gstin") or "")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        gstin = cleaned.get("gstin")
        if _is_new(self.instance) and gstin:
            organization = getattr(self.instance, "organization", None)
            pan = getattr(organization, "pan", None) or None
            _check(self, lambda: validate_gstin(gstin, pan=pan))
        return cleaned


class BankAccountInlineForm(forms.ModelForm):
    # The stored number is never put into a form: it is typed once, on a new row.
    new_account_number = forms.CharField(
        label="Account number", required=False, max_length=30, help_text="9 to 18 digits; shown masked once saved."
    )

    class Meta:
        model = BankAccount
        fields = ("holder_name", "bank_name", "branch", "ifsc", "is_default", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not _is_new(self.instance):
            self.fields["new_account_number"].disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        if cleaned.get("ifsc"):
            cleaned["ifsc"] = normalize_identifier(cleaned["ifsc"])
            _check(self, lambda: validate_ifsc(cleaned["ifsc"]))
        if _is_new(self.instance):
            number = (cleaned.get("new_account_number") or "").replace(" ", "")
            cleaned["new_account_number"] = number
            _check(self, lambda: validate_bank_account_number(number, attr="new_account_number"))
        return cleaned


class FinancialYearInlineForm(forms.ModelForm):
    class Meta:
        model = FinancialYear
        fields = ("label", "start_date", "end_date", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["label"].required = False
        self.fields["label"].help_text = "Blank: from the dates, e.g. 2026-27."

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        start_date, end_date = cleaned.get("start_date"), cleaned.get("end_date")
        if start_date and end_date and end_date <= start_date:
            self.add_error("end_date", "A financial year ends after it starts.")
        return cleaned


class DocumentSeriesInlineForm(forms.ModelForm):
    class Meta:
        model = DocumentSeries
        fields = ("financial_year", "doc_type", "prefix")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prefix"].required = False
        self.fields["prefix"].help_text = "Blank: TR, CT, INV, RQ or AV."
        if not _is_new(self.instance):
            self.fields["financial_year"].disabled = True
            self.fields["doc_type"].disabled = True


# --- inlines ----------------------------------------------------------------------------------------


class MasterDataInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GstRegistrationInline(MasterDataInline):
    model = GstRegistration
    form = GstRegistrationInlineForm
    fields = ("gstin", "state", "is_primary", "is_active")
    readonly_fields = ("state",)


class BankAccountInline(MasterDataInline):
    model = BankAccount
    form = BankAccountInlineForm
    fields = (
        "holder_name",
        "bank_name",
        "branch",
        "new_account_number",
        "masked_account_number",
        "ifsc",
        "is_default",
        "is_active",
    )
    readonly_fields = ("masked_account_number",)

    @admin.display(description="Account number (masked)")
    def masked_account_number(self, obj: BankAccount) -> str:
        return "-" if _is_new(obj) else obj.account_number_masked


class FinancialYearInline(MasterDataInline):
    model = FinancialYear
    form = FinancialYearInlineForm
    fields = ("label", "start_date", "end_date", "is_active")


class DocumentSeriesInline(MasterDataInline):
    model = DocumentSeries
    form = DocumentSeriesInlineForm
    fields = ("financial_year", "doc_type", "prefix", "counter")
    readonly_fields = ("counter",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "financial_year":
            # Only the years of the organization on the page.
            match = request.resolver_match
            organization_id = match.kwargs.get("object_id") if match else None
            years = FinancialYear.objects.order_by("-start_date")
            kwargs["queryset"] = years.filter(organization_id=organization_id) if organization_id else years.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- saving inline rows through the services --------------------------------------------------------


def _changes(form: forms.ModelForm, allowed: frozenset[str]) -> dict[str, Any]:
    return {field: form.cleaned_data[field] for field in form.changed_data if field in allowed}


def _save_gst_registration(request: HttpRequest, organization: Organization, form: forms.ModelForm) -> Model:
    data = form.cleaned_data
    if _is_new(form.instance):
        return gst_registration_create(
            organization_id=organization.pk,
            gstin=data["gstin"],
            is_primary=data["is_primary"],
            actor=request_actor(request),
        )
    return gst_registration_update(
        organization_id=organization.pk,
        gst_registration_id=form.instance.pk,
        actor=request_actor(request),
        **_changes(form, GST_REGISTRATION_UPDATABLE),
    )


def _save_bank_account(request: HttpRequest, organization: Organization, form: forms.ModelForm) -> Model:
    data = form.cleaned_data
    if _is_new(form.instance):
        return bank_account_create(
            organization_id=organization.pk,
            holder_name=data["holder_name"],
            bank_name=data["bank_name"],
            branch=data.get("branch") or "",
            account_number=data["new_account_number"],
            ifsc=data["ifsc"],
            is_default=data["is_default"],
            actor=request_actor(request),
        )
    return bank_account_update(
        organization_id=organization.pk,
        bank_account_id=form.instance.pk,
        actor=request_actor(request),
        **_changes(form, BANK_ACCOUNT_UPDATABLE),
    )


def _save_financial_year(request: HttpRequest, organization: Organization, form: forms.ModelForm) -> Model:
    data = form.cleaned_data
    if _is_new(form.instance):
        return financial_year_create(
            organization_id=organization.pk,
            start_date=data["start_date"],
            end_date=data["end_date"],
            label=data.get("label") or "",
            is_active=data["is_active"],
            actor=request_actor(request),
        )
    year: Model = form.instance
    changes = _changes(form, FINANCIAL_YEAR_UPDATABLE)
    if changes:
        year = financial_year_update(
            organization_id=organization.pk, financial_year_id=form.instance.pk, actor=request_actor(request), **changes
        )
    if "is_active" in form.changed_data:
        if not data["is_active"]:
            raise ActiveFinancialYearRequired()
        year = financial_year_activate(
            organization_id=organization.pk, financial_year_id=form.instance.pk, actor=request_actor(request)
        )
    return year


def _save_document_series(request: HttpRequest, organization: Organization, form: forms.ModelForm) -> Model:
    data = form.cleaned_data
    if _is_new(form.instance):
        return document_series_create(
            organization_id=organization.pk,
            financial_year_id=data["financial_year"].pk,
            doc_type=data["doc_type"],
            prefix=data.get("prefix") or "",
            actor=request_actor(request),
        )
    return document_series_update(
        organization_id=organization.pk,
        document_series_id=form.instance.pk,
        prefix=data.get("prefix") or form.instance.prefix,
        actor=request_actor(request),
    )


_SAVERS: dict[type[Model], Callable[[HttpRequest, Organization, forms.ModelForm], Model]] = {
    GstRegistration: _save_gst_registration,
    BankAccount: _save_bank_account,
    FinancialYear: _save_financial_year,
    DocumentSeries: _save_document_series,
}


class OrganizationAdminForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = "__all__"  # noqa: DJ007 (the admin decides what to show)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        profile = {k: cleaned[k] for k in (*PROFILE_FIELDS, "name") if k in cleaned}
        try:
            cleaned.update(clean_profile(profile))  # normalised: upper-case PAN, E.164 phone
        except FieldInvalid as exc:
            self.add_error(exc.attr if exc.attr in self.fields else None, exc.detail)
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ("code", "name", "legal_name", "state", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "legal_name")
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = (GstRegistrationInline, BankAccountInline, FinancialYearInline, DocumentSeriesInline)

    def get_queryset(self, request: HttpRequest) -> Any:
        # Organization staff see (and may edit, with the permission) their own tenant only.
        qs = super().get_queryset(request)
        if _is_platform_admin(request):
            return qs
        return qs.filter(pk=getattr(request.user, "organization_id", None))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_platform_admin(request) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tenants are deactivated, never deleted

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The public code is what applicants type; it never changes once issued.
        return (*self.readonly_fields, "code") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        # Through the services, so the change is validated and its event emitted.
        if not change:
            profile = {k: form.cleaned_data[k] for k in PROFILE_FIELDS if k in form.cleaned_data}
            created = organization_create(code=obj.code, name=obj.name, actor=request_actor(request), **profile)
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            obj._state.adding = False
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in UPDATABLE_FIELDS}
        organization_update(organization_id=obj.pk, actor=request_actor(request), **changes)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        saver = _SAVERS.get(formset.model)
        if saver is None:
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed():
                continue
            is_new = _is_new(inline_form.instance)
            try:
                saved = saver(request, form.instance, inline_form)
            except DomainError as exc:
                self.message_user(
                    request, f"{formset.model._meta.verbose_name.capitalize()}: {exc.detail}", messages.ERROR
                )
                continue
            if is_new:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, inline_form.changed_data))
