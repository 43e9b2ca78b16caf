"""The sign-in API: password and OTP logins, refresh rotation and logout (input/output shapes,
views and `urlpatterns`)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.users import UserOutput
from apps.accounts.services.otp import otp_request, otp_verify
from apps.accounts.services.tokens import logout, token_obtain_by_password, token_refresh
from apps.accounts.tokens import TokenPair


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    access_expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class OtpLoginOutput(TokenPairOutput):
    user = UserOutput()
    created = serializers.BooleanField(help_text="True when this login created the applicant's account.")


def _pair(pair: TokenPair) -> dict[str, object]:
    return {
        "access": pair.access,
        "refresh": pair.refresh,
        "token_type": pair.token_type,
        "access_expires_in": pair.access_expires_in,
    }


class PublicApi(APIView):
    """Login endpoints: no authentication is read (a stale bearer header must not fail them)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


class TokenObtainApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenObtainInput"

        email = serializers.EmailField()
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={200: TokenPairOutput}, summary="Staff login (e-mail + password)")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _user, pair = token_obtain_by_password(**data.validated_data)
        return Response(TokenPairOutput(_pair(pair)).data)


class TokenRefreshApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenRefreshInput"

        refresh = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: TokenPairOutput}, summary="Rotate a refresh token")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = token_refresh(refresh=data.validated_data["refresh"])
        return Response(TokenPairOutput(_pair(pair)).data)


class LogoutApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LogoutInput"

        refresh = serializers.CharField(max_length=2000, required=False)
        all = serializers.BooleanField(default=False, help_text="End every session of this user.")

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("LogoutOutput", {"revoked": serializers.IntegerField()})},
        summary="Log out of this session or all sessions",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revoked = logout(
            user=request.user,  # type: ignore[arg-type]
            refresh=data.validated_data.get("refresh"),
            everywhere=data.validated_data["all"],
        )
        return Response({"revoked": revoked})


class OtpRequestApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OtpRequestInput"

        mobile = serializers.CharField(max_length=32)
        organization_code = serializers.CharField(max_length=20, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            202: inline_serializer(
                "OtpRequestOutput",
                {
                    "mobile": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                },
            )
        },
        summary="Send a sign-in code by SMS (partner users and applicants)",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # REMOTE_ADDR, not X-Forwarded-For: a header the client writes cannot spread its sends
        # over many "addresses" (behind a proxy, have it set REMOTE_ADDR).
        result = otp_request(**data.validated_data, client_ip=request.META.get("REMOTE_ADDR"))
        # The same answer whether or not the number is registered (no enumeration).
        return Response({"mobile": result.mobile, "expires_in": result.expires_in}, status=202)


class OtpVerifyApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OtpVerifyInput"

        mobile = serializers.CharField(max_length=32)
        code = serializers.RegexField(r"^\d{6}$", error_messages={"invalid": "The code is 6 digits."})

    @extend_schema(request=InputSerializer, responses={200: OtpLoginOutput}, summary="Sign in with the SMS code")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, pair, created = otp_verify(**data.validated_data)
        body = {**_pair(pair), "user": UserOutput(user).data, "created": created}
        return Response(OtpLoginOutput(body).data)


urlpatterns = [
    path("auth/token", TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout", LogoutApi.as_view(), name="auth-logout"),
    path("auth/otp/request", OtpRequestApi.as_view(), name="auth-otp-request"),
    path("auth/otp/verify", OtpVerifyApi.as_view(), name="auth-otp-verify"),
]
