"""The signed-in user's own profile (`/me`): output shapes, view and `urlpatterns`."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import me


class OrganizationRefOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class PartnerRefOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()


class UserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField(allow_null=True)
    mobile = serializers.CharField(allow_null=True)
    full_name = serializers.CharField()
    user_type = serializers.CharField()
    is_verified = serializers.BooleanField()
    organization = OrganizationRefOutput(allow_null=True)


class MeOutput(serializers.Serializer):
    user = UserOutput()
    partner = PartnerRefOutput(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    capabilities = serializers.ListField(child=serializers.CharField())


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeOutput}, summary="The signed-in user, its organization, partner and capabilities")
    def get(self, request: Request) -> Response:
        return Response(MeOutput(me(request.user)).data)  # type: ignore[arg-type]


urlpatterns = [path("me", MeApi.as_view(), name="me")]
