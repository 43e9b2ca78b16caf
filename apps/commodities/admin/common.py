"""What the back-office screens of the global masters share. Every mutation goes through the services (so it is
validated, permission-checked and emits its event); a refusal is reported with message_user.

- Commodities: search, filters, inline varieties and parameters, CSV/Excel import and export.
- Schedules: inline rules, editable only while the version is a draft; an action activates.
- Terms: one screen for every kind, CSV/Excel import and export. Commissions and units.

Nothing is deleted here: masters are deactivated (rows in use are referenced by trades).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from apps.core.errors import DomainError

# Excel needs openpyxl (django-import-export[xlsx]); a format whose library is missing is left out
# (import-export would fail on it rather than hide it).
IMPORT_EXPORT_FORMATS = [f for f in (CSV, XLSX) if f.is_available()]


class ServiceAdmin(admin.ModelAdmin):
    """Reports a service's refusal on the form's page instead of failing the request."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            details = "; ".join(str(e["detail"]) for e in error.errors) or error.detail
            self.message_user(request, f"Not saved: {details}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class MasterImportExportAdmin(ImportExportModelAdmin, ServiceAdmin):
    import_formats = IMPORT_EXPORT_FORMATS
    export_formats = IMPORT_EXPORT_FORMATS

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import creates and changes rows: it needs both permissions (import-export's
        # default would let anyone who can open the screen import).
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # The confirmed import also rolls back entirely if any row turns out invalid.
        data_kwargs: dict[str, Any] = super().get_import_data_kwargs(**kwargs)
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs


class StableCodeForm(forms.ModelForm):
    """Existing rows show their code (and kind) but cannot change it: other rows refer to it."""

    immutable: tuple[str, ...] = ("code",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            for name in self.immutable:
                if name in self.fields:
                    self.fields[name].disabled = True


class ParameterForm(StableCodeForm):
    immutable = ("code", "kind")
