"""What the trades API modules share: the tag, paging parameters and the small inputs."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

TAG = "trades"
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of an earlier page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, capped at 200)."),
]


class OnBehalfInput(serializers.Serializer):
    on_behalf_of = serializers.UUIDField(
        required=False, allow_null=True, help_text="Desk staff only: the party (buyer or seller id) acted for."
    )


class ReasonInput(OnBehalfInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
