"""The acting user of an authenticated API request or admin view, typed: what every app's views
pass to their services as `actor` (core may not import `User`, so this one-liner lives here)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from apps.accounts.models import User


def request_user(request: Request | HttpRequest) -> User:
    """`request.user` as the `User` it is behind `IsAuthenticated` (or the admin's login)."""
    return cast(User, request.user)
