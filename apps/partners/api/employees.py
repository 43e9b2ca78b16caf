"""A partner's users: `GET|POST /api/v1/partners/{id}/employees/`,
`PATCH .../employees/{user_id}` (role), `POST .../employees/{user_id}/disable|enable`.

Readers: the partner's members and its organization's staff. Writers: the owner (object
permission partners.manage_employees) and staff holding that capability.
"""

from __future__ import annotations

from uuid import UUID

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.masking import MASK
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors
from apps.partners.models import MembershipRole, PartnerMembership
from apps.partners.services import employees

TAG = "partners"


class EmployeeInviterOutput(serializers.Serializer):
    id = serializers.UUIDField()
    full_name = serializers.CharField()


class EmployeeOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    full_name = serializers.CharField(source="user.full_name")
    mobile_masked = serializers.SerializerMethodField(help_text="`***` and the last four digits.")
    role = serializers.ChoiceField(choices=MembershipRole.choices)
    is_active = serializers.BooleanField()
    invited_by = EmployeeInviterOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    disabled_at = serializers.DateTimeField(allow_null=True)

    def get_mobile_masked(self, membership: PartnerMembership) -> str:
        mobile = membership.user.mobile
        return f"{MASK}{mobile[-4:]}" if mobile else ""


class EmployeePageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EmployeeOutput(many=True)


class EmployeePage(CappedCursorPagination):
    ordering = ("created_at", "id")


class EmployeeInviteInput(serializers.Serializer):
    mobile = serializers.CharField(max_length=20, help_text="E.164; a 10-digit Indian number gets +91.")
    full_name = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class EmployeeRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class EmployeeDisableInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class EmployeeCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_employees_list",
        parameters=[
            *PAGE_PARAMETERS,
        ],
        responses=EmployeePageOutput,
    )
    def get(self, request: Request, partner_id: UUID) -> Response:
        paginator = EmployeePage()
        page = paginator.paginate_queryset(
            selectors.employees_of_partner(request_user(request), partner_id), request, view=self
        )
        return paginator.get_paginated_response(EmployeeOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_employees_invite",
        request=EmployeeInviteInput,
        responses={201: EmployeeOutput},
        description="Creates the user (an external user of the partner's organization) with its role and "
        "sends an SMS invitation; the invitee signs in by OTP with that mobile.",
    )
    def post(self, request: Request, partner_id: UUID) -> Response:
        user = request_user(request)
        employees.ensure_can_manage_employees(user, selectors.partner_get(user, partner_id))
        data = EmployeeInviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = employees.employee_invite(actor=user, partner_id=partner_id, **data.validated_data)
        return Response(EmployeeOutput(membership).data, status=201)


class EmployeeDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="partners_employee_change_role", request=EmployeeRoleInput, responses=EmployeeOutput
    )
    def patch(self, request: Request, partner_id: UUID, user_id: UUID) -> Response:
        user = request_user(request)
        employees.ensure_can_manage_employees(user, selectors.partner_get(user, partner_id))
        data = EmployeeRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = employees.employee_change_role(
            actor=user, partner_id=partner_id, user_id=user_id, role=data.validated_data["role"]
        )
        return Response(EmployeeOutput(membership).data)


class EmployeeDisableApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_employee_disable",
        request=EmployeeDisableInput,
        responses=EmployeeOutput,
        description="Ends the user's sessions and websockets and revokes its rights on the partner.",
    )
    def post(self, request: Request, partner_id: UUID, user_id: UUID) -> Response:
        user = request_user(request)
        employees.ensure_can_manage_employees(user, selectors.partner_get(user, partner_id))
        data = EmployeeDisableInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = employees.employee_disable(
            actor=user, partner_id=partner_id, user_id=user_id, reason=data.validated_data.get("reason", "")
        )
        return Response(EmployeeOutput(membership).data)


class EmployeeEnableApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_employee_enable", request=None, responses=EmployeeOutput)
    def post(self, request: Request, partner_id: UUID, user_id: UUID) -> Response:
        membership = employees.employee_enable(actor=request_user(request), partner_id=partner_id, user_id=user_id)
        return Response(EmployeeOutput(membership).data)


E = "partners/<uuid:partner_id>/employees"

urlpatterns = [
    path(f"{E}/", EmployeeCollectionApi.as_view(), name="partner-employees"),
    path(f"{E}/<uuid:user_id>", EmployeeDetailApi.as_view(), name="partner-employee"),
    path(f"{E}/<uuid:user_id>/disable", EmployeeDisableApi.as_view(), name="partner-employee-disable"),
    path(f"{E}/<uuid:user_id>/enable", EmployeeEnableApi.as_view(), name="partner-employee-enable"),
]
