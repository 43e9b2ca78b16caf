"""What the accounts admin screens share. No screen lives here."""

from __future__ import annotations

from typing import Any
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db import transaction
from django.http import HttpRequest
from apps.accounts.models import OtpCode, SmsMessage, User, UserType
from apps.accounts.roles import Role
from apps.accounts.selectors import partner_of
from apps.accounts.users import user_record_created


def _is_platform_admin(user: Any) -> bool:
    return getattr(user, "user_type", None) == UserType.SUPER_ADMIN or bool(user.is_superuser)
