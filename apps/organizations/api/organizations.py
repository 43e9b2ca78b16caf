"""Organizations API: list them, read and change a profile."""

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
    CHANGE,
)
from apps.organizations.permissions import (
    ORGANIZATION as ORGANIZATION_MODEL,
)
from apps.organizations.services import organizations


class OrganizationProfileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    legal_name = serializers.CharField()
    pan = serializers.CharField()
    cin = serializers.CharField()
    base_currency = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(help_text="Two-letter state code, e.g. GJ; blank when not recorded.")
    pincode = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrganizationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OrganizationProfileOutput(many=True)


class OrganizationListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: OrganizationPageOutput},
        summary="List organizations (platform admins: all; staff: their own)",
    )
    def get(self, request: Request) -> Response:
        return cursor_page(
            request, selectors.organizations_visible_to(request.user), OrganizationProfileOutput, view=self
        )


class OrganizationRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_retrieve",
        tags=[TAG],
        responses={200: OrganizationProfileOutput},
        summary="Read an organization's profile",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        organization = selectors.organization_get(user=request.user, organization_id=organization_id)
        return Response(OrganizationProfileOutput(organization).data)


class OrganizationUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrganizationUpdateInput"

        name = serializers.CharField(max_length=200, required=False)
        legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        pan = serializers.CharField(max_length=10, required=False, allow_blank=True, help_text="e.g. AAPFU0939F")
        cin = serializers.CharField(max_length=21, required=False, allow_blank=True)
        address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
        address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
        city = serializers.CharField(max_length=100, required=False, allow_blank=True)
        state = serializers.CharField(
            max_length=2, required=False, allow_blank=True, help_text="Two-letter state code, e.g. GJ."
        )
        pincode = serializers.CharField(max_length=6, required=False, allow_blank=True)
        contact_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)

    @extend_schema(
        operation_id="organizations_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: OrganizationProfileOutput},
        summary="Change an organization's profile (names, PAN, CIN, address, contact)",
    )
    def patch(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, ORGANIZATION_MODEL)
        changes = validated_data(OrganizationUpdateApi.InputSerializer, request.data)
        organization = organizations.organization_update(
            organization_id=organization_id, actor=request_actor(request), **changes
        )
        return Response(OrganizationProfileOutput(organization).data)


class OrganizationDetailApi(OrganizationRetrieveApi, OrganizationUpdateApi):
    pass  # GET reads, PATCH updates (no docstring: the schema takes each operation's own)


urlpatterns: list[URLPattern] = [
    path("organizations/", OrganizationListApi.as_view(), name="organizations"),
    path(f"{ORGANIZATION_PATH}/", OrganizationDetailApi.as_view(), name="organization"),
]
