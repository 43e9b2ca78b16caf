"""The websocket ticket endpoint: a partner's app trades its bearer token for a one-use ticket."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.realtime.services.tickets import ticket_issue

STREAM_PATH = "/ws/v1/stream/"


class RealtimeTicketOutput(serializers.Serializer):
    ticket = serializers.CharField(help_text="Single use. Pass as `?ticket=` when opening the stream.")
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid.")
    url = serializers.CharField(help_text="Path of the websocket stream with the ticket in place.")


def _access_expires_at(auth: Any) -> float | None:
    """`exp` of the bearer access token the request came with; None for a session."""
    expires = auth.get("exp") if auth is not None and hasattr(auth, "get") else None
    return float(expires) if expires is not None else None


class TicketCreateApi(APIView):
    """A short-lived, single-use ticket to open `/ws/v1/stream/` (browsers cannot send a bearer
    header on a websocket handshake). The socket closes when the access token used here expires."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: RealtimeTicketOutput}, summary="Get a websocket ticket")
    def post(self, request: Request) -> Response:
        issued = ticket_issue(user_id=request.user.pk, access_expires_at=_access_expires_at(request.auth))
        body = {
            "ticket": issued.ticket,
            "expires_in": issued.expires_in,
            "url": f"{STREAM_PATH}?ticket={issued.ticket}",
        }
        return Response(RealtimeTicketOutput(body).data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern] = [
    path("realtime/tickets/", TicketCreateApi.as_view(), name="realtime-ticket-create"),
]
