from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.events.envelope import EventEnvelope
from apps.events.selectors import events_visible_to


class EventOutput(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    type = serializers.CharField()
    version = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    organization = serializers.UUIDField(allow_null=True)
    partner = serializers.UUIDField(allow_null=True)
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.CharField()
    actor = serializers.UUIDField(allow_null=True)
    correlation_id = serializers.CharField()
    payload = serializers.JSONField()


class EventFeedOutput(serializers.Serializer):
    results = EventOutput(many=True)
    next_after = serializers.IntegerField(allow_null=True, help_text="Pass as `after` to read on; null at the end.")


class EventFeedApi(APIView):
    """The events the caller may see, in order. Resume after a disconnect with `after`."""

    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EventFeedFilter"

        after = serializers.IntegerField(required=False, min_value=0)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="Position of the last event already seen."),
            OpenApiParameter("limit", int, description="At most this many events (1-500, default 100)."),
        ],
        responses=EventFeedOutput,
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        limit = filters.validated_data["limit"]
        rows = list(events_visible_to(request.user, after=filters.validated_data.get("after"))[: limit + 1])
        page = rows[:limit]
        body = {
            "results": [EventEnvelope.from_row(row).__dict__ for row in page],
            "next_after": page[-1].position if len(rows) > limit else None,
        }
        return Response(EventFeedOutput(body).data)


urlpatterns = [path("events/", EventFeedApi.as_view(), name="events-feed")]
