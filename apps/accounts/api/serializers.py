from __future__ import annotations

from rest_framework import serializers


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    access_expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


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


class OtpLoginOutput(TokenPairOutput):
    user = UserOutput()
    created = serializers.BooleanField(help_text="True when this login created the applicant's account.")
