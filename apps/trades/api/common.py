"""What the trades API modules share: the tag, paging parameters and the small inputs."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.common import PAGE_PARAMETERS as PAGE_PARAMETERS

TAG = "trades"


class OnBehalfInput(serializers.Serializer):
    on_behalf_of = serializers.UUIDField(
        required=False, allow_null=True, help_text="Desk staff only: the party (buyer or seller id) acted for."
    )


class ReasonInput(OnBehalfInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
