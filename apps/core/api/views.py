from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.health import run_readiness_checks


class HealthLiveApi(APIView):
    """The process is up and serving requests. Touches nothing else."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("HealthLive", {"status": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class HealthCheckOutput(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField()
    error = serializers.CharField(allow_null=True)


class HealthReadyOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    checks = HealthCheckOutput(many=True)


class HealthReadyApi(APIView):
    """Database, Redis and the Celery broker, each reported; 503 when one is down."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthReadyOutput, 503: HealthReadyOutput})
    def get(self, request: Request) -> Response:
        checks = run_readiness_checks()
        ready = all(c.ok for c in checks)
        body = {"status": "ok" if ready else "unavailable", "checks": [asdict(c) for c in checks]}
        return Response(HealthReadyOutput(body).data, status=200 if ready else 503)
