"""Data: the free-mail domains and a credit row for every existing partner (its limit from the
partner's onboarding `credit_limit`). The roles get their risk capabilities from
`risk.permissions.ROLE_PERMISSIONS` (registered with accounts.roles), synced after every migrate."""

from __future__ import annotations

from typing import Any

from django.db import migrations

FREE_MAIL_DOMAINS = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.in",
    "yahoo.in",
    "ymail.com",
    "rediffmail.com",
    "rediff.com",
    "hotmail.com",
    "outlook.com",
    "outlook.in",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "protonmail.com",
    "proton.me",
    "zoho.com",
    "zohomail.in",
    "mail.com",
    "gmx.com",
    "yandex.com",
]

def forwards(apps: Any, schema_editor: Any) -> None:
    FreeMailDomain = apps.get_model("risk", "FreeMailDomain")
    FreeMailDomain.objects.bulk_create([FreeMailDomain(domain=d) for d in FREE_MAIL_DOMAINS], ignore_conflicts=True)

    BusinessPartner = apps.get_model("partners", "BusinessPartner")
    CreditAccount = apps.get_model("risk", "CreditAccount")
    CreditAccount.objects.bulk_create(
        [
            CreditAccount(partner_id=pk, organization_id=org, credit_limit=limit)
            for pk, org, limit in BusinessPartner.objects.values_list("pk", "organization_id", "credit_limit")
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("partners", "0002_partner_profile_vehicles_amendments_kyc"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
