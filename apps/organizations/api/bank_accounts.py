"""An organization's bank accounts: list, add, read, change, make the default or (de)activate."""

from __future__ import annotations

from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.actors import request_actor
from apps.core.api.common import PAGE_PARAMETERS, cursor_page, validated_data
from apps.organizations import selectors
from apps.organizations.api.common import ORGANIZATION_PATH, TAG, OrganizationsApi
from apps.organizations.permissions import (
    ADD,
    BANK_ACCOUNT,
    CHANGE,
)
from apps.organizations.services import bank_accounts


class BankAccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    holder_name = serializers.CharField()
    bank_name = serializers.CharField()
    branch = serializers.CharField()
    account_number_masked = serializers.CharField(help_text="`***` and the last four digits; never the whole number.")
    ifsc = serializers.CharField()
    is_default = serializers.BooleanField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BankAccountPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BankAccountOutput(many=True)


class BankAccountListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_bank_accounts_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: BankAccountPageOutput},
        summary="List the organization's bank accounts, numbers masked (newest first)",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        queryset = selectors.bank_accounts_of(user=request.user, organization_id=organization_id)
        return cursor_page(request, queryset, BankAccountOutput, view=self)


class BankAccountCreateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BankAccountCreateInput"

        holder_name = serializers.CharField(max_length=200)
        bank_name = serializers.CharField(max_length=200)
        branch = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        account_number = serializers.CharField(
            max_length=30, write_only=True, help_text="9 to 18 digits; answered masked, never whole."
        )
        ifsc = serializers.CharField(max_length=11, help_text="e.g. SBIN0001234")
        is_default = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="organizations_bank_accounts_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: BankAccountOutput},
        summary="Add a bank account (the first is the default; is_default moves the flag)",
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, ADD, BANK_ACCOUNT)
        data = validated_data(BankAccountCreateApi.InputSerializer, request.data)
        account = bank_accounts.bank_account_create(
            organization_id=organization_id, actor=request_actor(request), **data
        )
        return Response(BankAccountOutput(account).data, status=201)


class BankAccountRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_bank_accounts_retrieve",
        tags=[TAG],
        responses={200: BankAccountOutput},
        summary="Read a bank account (number masked)",
    )
    def get(self, request: Request, organization_id: UUID, bank_account_id: UUID) -> Response:
        account = selectors.bank_account_get(
            user=request.user, organization_id=organization_id, bank_account_id=bank_account_id
        )
        return Response(BankAccountOutput(account).data)


class BankAccountUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BankAccountUpdateInput"

        holder_name = serializers.CharField(max_length=200, required=False)
        bank_name = serializers.CharField(max_length=200, required=False)
        branch = serializers.CharField(max_length=200, required=False, allow_blank=True)
        ifsc = serializers.CharField(max_length=11, required=False)
        is_default = serializers.BooleanField(required=False, help_text="True makes this the default account.")
        is_active = serializers.BooleanField(required=False, help_text="False deactivates it (never deleted).")

    @extend_schema(
        operation_id="organizations_bank_accounts_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: BankAccountOutput},
        summary="Change a bank account's holder, bank, branch or IFSC, make it the default, or (de)activate it",
    )
    def patch(self, request: Request, organization_id: UUID, bank_account_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, BANK_ACCOUNT)
        changes = validated_data(BankAccountUpdateApi.InputSerializer, request.data)
        account = bank_accounts.bank_account_update(
            organization_id=organization_id, bank_account_id=bank_account_id, actor=request_actor(request), **changes
        )
        return Response(BankAccountOutput(account).data)


class BankAccountCollectionApi(BankAccountListApi, BankAccountCreateApi):
    pass


class BankAccountDetailApi(BankAccountRetrieveApi, BankAccountUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(f"{ORGANIZATION_PATH}/bank-accounts/", BankAccountCollectionApi.as_view(), name="organization-bank-accounts"),
    path(
        f"{ORGANIZATION_PATH}/bank-accounts/<uuid:bank_account_id>/",
        BankAccountDetailApi.as_view(),
        name="organization-bank-account",
    ),
]
