"""Test-only URLconf for Idempotency-Key and audit history: views that write, crash or refuse,
plus the real project URLs.

Used with `@pytest.mark.urls("apps.core.tests.urls_idempotency")`.
"""

from __future__ import annotations

from collections import Counter

from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import RateLimited
from apps.core.idempotency import RequiresIdempotencyKey, require_idempotency_key
from apps.organizations.services.organizations import organization_create

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

# How many times each view body ran (the tests reset it): "runs nothing" is counted, not assumed.
CALLS: Counter[str] = Counter()


class OrganizationInput(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=200)


class OrganizationCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        CALLS["organization_create"] += 1
        data = OrganizationInput(data=request.data)
        data.is_valid(raise_exception=True)
        # The write under test is the middleware's (Idempotency-Key, audit context), not the
        # organization service's rights: it runs as the system (actor=None), which the service
        # allows, so any signed-in (or, below, anonymous) caller exercises the middleware.
        organization = organization_create(**data.validated_data, actor=None)
        return Response(
            {"id": str(organization.id), "code": organization.code},
            status=201,
            headers={"Location": f"/api/v1/test/organizations/{organization.id}"},
        )


class PublicOrganizationCreateApi(OrganizationCreateApi):
    """Like a login endpoint: reads no authentication."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


class CrashApi(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        CALLS["crash"] += 1
        raise RuntimeError("the ledger service fell over")


class ThrottledApi(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        CALLS["throttled"] += 1
        raise RateLimited("Too many offers; wait a little.", retry_after=5)


class KeyRequiredApi(APIView):
    permission_classes = [IsAuthenticated, RequiresIdempotencyKey]

    def post(self, request: Request) -> Response:
        CALLS["key_required"] += 1
        return Response({"reserved": True}, status=201)


class KeyRequiredByDecoratorApi(APIView):
    permission_classes = [IsAuthenticated]

    @require_idempotency_key
    def post(self, request: Request) -> Response:
        CALLS["key_required_by_decorator"] += 1
        return Response({"reserved": True}, status=201)


urlpatterns = [
    path("api/v1/test/organizations", OrganizationCreateApi.as_view()),
    path("api/v1/test/public-organizations", PublicOrganizationCreateApi.as_view()),
    path("api/v1/test/crash", CrashApi.as_view()),
    path("api/v1/test/throttled", ThrottledApi.as_view()),
    path("api/v1/test/key-required", KeyRequiredApi.as_view()),
    path("api/v1/test/key-required-by-decorator", KeyRequiredByDecoratorApi.as_view()),
    # By name, not import: apps never import the project package (import-linter).
    path("", include("cotton_erp.urls")),
]
