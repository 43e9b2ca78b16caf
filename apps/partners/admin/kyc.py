"""Back-office buttons of the partner screen for capabilities, partner documents and KYC renewal
(mixed into BusinessPartnerAdmin in admin/partners.py), and the partner's documents inline.

Every button calls its service, which checks the capability; a refusal is reported with
message_user and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django_object_actions import action

from apps.core.admin import ServiceActionsMixin
from apps.partners.admin.documents import DocumentLinkMixin
from apps.partners.capability_rules import normalized
from apps.partners.models import BusinessPartner, DocumentStatus, PartnerDocument
from apps.partners.services.capabilities import partner_override_capabilities
from apps.partners.services.documents import partner_document_reject, partner_document_verify
from apps.partners.services.kyc import kyc_renew

KYC_ACTIONS = ("override_capabilities", "review_partner_document", "renew_kyc")


class PartnerDocumentInline(DocumentLinkMixin, admin.TabularInline):
    model = PartnerDocument
    fk_name = "partner"
    extra = 0
    can_delete = False
    fields = (
        "document_type",
        "view_file",
        "status",
        "issued_on",
        "expires_on",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "created_at",
    )
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CapabilitiesOverrideForm(forms.Form):
    buy = forms.BooleanField(required=False)
    sell = forms.BooleanField(required=False)
    import_ = forms.BooleanField(required=False, label="Import")
    export = forms.BooleanField(required=False)
    clear = forms.BooleanField(
        required=False,
        label="Remove the override",
        help_text="Back to the capabilities derived from the verified documents (the boxes above are ignored).",
    )
    reason = forms.CharField(widget=forms.Textarea, max_length=500, help_text="Required, also when removing.")

    def capabilities(self) -> dict[str, bool] | None:
        data = self.cleaned_data
        if data["clear"]:
            return None
        return {"buy": data["buy"], "sell": data["sell"], "import": data["import_"], "export": data["export"]}


class PartnerDocumentDecisionForm(forms.Form):
    document = forms.ModelChoiceField(queryset=PartnerDocument.objects.none())
    decision = forms.ChoiceField(choices=[("verify", "Verify"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=500, help_text="Required when rejecting.")

    def __init__(self, *args: Any, partner: BusinessPartner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["document"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PartnerDocument.objects.filter(partner=partner, status=DocumentStatus.PENDING).order_by(
            "document_type", "created_at"
        )


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(initial=True, widget=forms.HiddenInput)


class KycActionsMixin(ServiceActionsMixin):
    """Buttons: Override capabilities, Verify / reject a document, Renew KYC."""

    @action(
        button_type="a",
        label="Override capabilities",
        description="Set or remove a staff override of the trading capabilities (with a reason)",
    )
    def override_capabilities(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        current = normalized(obj.trading_capabilities)
        form = CapabilitiesOverrideForm(
            request.POST or None,
            initial={
                "buy": current["buy"],
                "sell": current["sell"],
                "import_": current["import"],
                "export": current["export"],
            },
        )
        if request.method == "POST" and form.is_valid():
            capabilities = form.capabilities()
            if self.run_service(
                request,
                "Override removed." if capabilities is None else "Capabilities overridden.",
                partner_override_capabilities,
                partner_id=obj.pk,
                capabilities=capabilities,
                reason=form.cleaned_data["reason"],
                form=form,
            ):
                return None
        return self.action_form_page(request, obj, form, f"Override the capabilities of {obj.code}", "Save")

    @action(
        button_type="a",
        label="Verify / reject a document",
        description="Verify or reject one pending partner document",
    )
    def review_partner_document(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        form = PartnerDocumentDecisionForm(request.POST or None, partner=obj)
        if request.method == "POST" and form.is_valid():
            document = form.cleaned_data["document"]
            if form.cleaned_data["decision"] == "verify":
                self.run_service(
                    request,
                    f"{document.document_type} verified.",
                    partner_document_verify,
                    document_id=document.pk,
                )
            else:
                self.run_service(
                    request,
                    f"{document.document_type} rejected.",
                    partner_document_reject,
                    document_id=document.pk,
                    reason=form.cleaned_data["reason"],
                )
            return None
        return self.action_form_page(request, obj, form, "Verify or reject a partner document", "Record decision")

    @action(
        button_type="a",
        label="Renew KYC",
        description="Renew the KYC for a year: needs freshly verified copies of the required documents",
    )
    def renew_kyc(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        form = ConfirmForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(request, "KYC renewed.", kyc_renew, partner_id=obj.pk, form=form)
        ):
            return None
        return self.action_form_page(request, obj, form, f"Renew the KYC of {obj.code}", "Renew KYC")
