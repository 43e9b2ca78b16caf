"""OpenAPI description of our JWT authentication (drf-spectacular extension)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JwtAuthenticationScheme(SimpleJWTScheme):
    target_class = "apps.accounts.authentication.JwtAuthentication"
    name = "jwtAuth"
