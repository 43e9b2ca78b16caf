"""Test-only URLconf: the real project URLs plus views that fail in each way the API must render.

Used with `@pytest.mark.urls("apps.core.tests.urls_for_tests")`.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import DomainError
from apps.core.pagination import CappedCursorPagination
from apps.organizations.models import Organization

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

SECRET_CRASH_TEXT = "database password is hunter2 at /srv/cotton/secret.py"


class ThingBusy(DomainError):
    code = "thing_busy"
    status = 409
    default_detail = "The thing is busy."


class QuantityRefused(DomainError):
    code = "quantity_refused"
    status = 422
    default_detail = "The quantity was refused."


class _PublicApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


class DomainErrorApi(_PublicApi):
    def get(self, request: Request) -> Response:
        raise ThingBusy("Bale lot 7 is being weighed; try again in a minute.")


class FieldErrorApi(_PublicApi):
    def get(self, request: Request) -> Response:
        raise QuantityRefused.for_field(
            "quantity_kg", "Expected at most 1000 kg, got 1200 kg.", code="quantity_too_large"
        )


class IntegrityErrorApi(_PublicApi):
    def post(self, request: Request) -> Response:
        with transaction.atomic():
            Organization.objects.create(code="DUP", name="First House")
            Organization.objects.create(code="DUP", name="Second House")
        return Response({"created": 2}, status=201)


class LockedRowApi(_PublicApi):
    def post(self, request: Request, organization_id: UUID) -> Response:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '100ms'")
            Organization.objects.select_for_update().get(pk=organization_id)
        return Response({"locked": True})


class CrashApi(_PublicApi):
    def get(self, request: Request) -> Response:
        raise RuntimeError(SECRET_CRASH_TEXT)


def plain_django_crash(request: HttpRequest) -> HttpResponse:
    """A plain Django view: its exception reaches Django's handler500, not DRF's handler."""
    raise RuntimeError(SECRET_CRASH_TEXT)


class DrfNotFoundApi(_PublicApi):
    def get(self, request: Request) -> Response:
        raise exceptions.NotFound("No such bale lot.")


class BaleLotInput(serializers.Serializer):
    lot_number = serializers.CharField(max_length=20)
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)


class SerializerErrorApi(_PublicApi):
    def post(self, request: Request) -> Response:
        data = BaleLotInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data, status=201)


class OrganizationOutput(serializers.Serializer):
    code = serializers.CharField()


class PaginatedOrganizationsApi(_PublicApi):
    pagination_class = CappedCursorPagination

    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(Organization.objects.all(), request, view=self)
        return paginator.get_paginated_response(OrganizationOutput(page, many=True).data)


urlpatterns = [
    path("api/v1/test/domain-error", DomainErrorApi.as_view()),
    path("api/v1/test/field-error", FieldErrorApi.as_view()),
    path("api/v1/test/integrity-error", IntegrityErrorApi.as_view()),
    path("api/v1/test/locked/<uuid:organization_id>", LockedRowApi.as_view()),
    path("api/v1/test/crash", CrashApi.as_view()),
    path("api/v1/test/drf-not-found", DrfNotFoundApi.as_view()),
    path("api/v1/test/plain-crash", plain_django_crash),
    path("test/plain-crash", plain_django_crash),
    path("api/v1/test/serializer-error", SerializerErrorApi.as_view()),
    path("api/v1/test/organizations", PaginatedOrganizationsApi.as_view()),
    # By name, not import: apps never import the project package (import-linter).
    path("", include("cotton_erp.urls")),
]
