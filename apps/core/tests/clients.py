"""Test clients shared by the apps' back-office tests."""

from __future__ import annotations

from typing import Any

from django.test import Client


def staff_client(user: Any) -> Client:
    """A test client logged in to the back office as `user` (session login, no password)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
