"""An organization's GST registrations: list, register, read, make primary or (de)activate."""

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
    CHANGE,
    GST_REGISTRATION,
)
from apps.organizations.services import gst_registrations


class GstRegistrationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    gstin = serializers.CharField()
    state = serializers.CharField(help_text="Two-letter state code, from the GSTIN's first two digits.")
    is_primary = serializers.BooleanField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GstRegistrationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GstRegistrationOutput(many=True)


class GstRegistrationListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_gst_registrations_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: GstRegistrationPageOutput},
        summary="List the organization's GST registrations (newest first)",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        queryset = selectors.gst_registrations_of(user=request.user, organization_id=organization_id)
        return cursor_page(request, queryset, GstRegistrationOutput, view=self)


class GstRegistrationCreateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GstRegistrationCreateInput"

        gstin = serializers.CharField(
            max_length=20, help_text="15 characters; its PAN part must be the organization's."
        )
        is_primary = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="organizations_gst_registrations_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: GstRegistrationOutput},
        summary="Register a GSTIN (the first is primary; is_primary moves the flag)",
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, ADD, GST_REGISTRATION)
        data = validated_data(GstRegistrationCreateApi.InputSerializer, request.data)
        registration = gst_registrations.gst_registration_create(
            organization_id=organization_id, actor=request_actor(request), **data
        )
        return Response(GstRegistrationOutput(registration).data, status=201)


class GstRegistrationRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_gst_registrations_retrieve",
        tags=[TAG],
        responses={200: GstRegistrationOutput},
        summary="Read a GST registration",
    )
    def get(self, request: Request, organization_id: UUID, gst_registration_id: UUID) -> Response:
        registration = selectors.gst_registration_get(
            user=request.user, organization_id=organization_id, gst_registration_id=gst_registration_id
        )
        return Response(GstRegistrationOutput(registration).data)


class GstRegistrationUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GstRegistrationUpdateInput"

        is_primary = serializers.BooleanField(required=False, help_text="True makes this the primary registration.")
        is_active = serializers.BooleanField(required=False, help_text="False deactivates it (never deleted).")

    @extend_schema(
        operation_id="organizations_gst_registrations_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: GstRegistrationOutput},
        summary="Make a GST registration primary, or (de)activate it",
    )
    def patch(self, request: Request, organization_id: UUID, gst_registration_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, GST_REGISTRATION)
        changes = validated_data(GstRegistrationUpdateApi.InputSerializer, request.data)
        registration = gst_registrations.gst_registration_update(
            organization_id=organization_id,
            gst_registration_id=gst_registration_id,
            actor=request_actor(request),
            **changes,
        )
        return Response(GstRegistrationOutput(registration).data)


class GstRegistrationCollectionApi(GstRegistrationListApi, GstRegistrationCreateApi):
    pass


class GstRegistrationDetailApi(GstRegistrationRetrieveApi, GstRegistrationUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(
        f"{ORGANIZATION_PATH}/gst-registrations/",
        GstRegistrationCollectionApi.as_view(),
        name="organization-gst-registrations",
    ),
    path(
        f"{ORGANIZATION_PATH}/gst-registrations/<uuid:gst_registration_id>/",
        GstRegistrationDetailApi.as_view(),
        name="organization-gst-registration",
    ),
]
