from __future__ import annotations

from django.db import transaction

from apps.organizations.models import Organization


def organization_create(*, code: str, name: str, legal_name: str = "", pan: str = "") -> Organization:
    with transaction.atomic():
        return Organization.objects.create(code=code.strip().upper(), name=name, legal_name=legal_name or name, pan=pan)
