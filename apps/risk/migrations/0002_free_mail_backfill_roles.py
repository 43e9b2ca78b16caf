"""Data: the free-mail domains, a credit row for every existing partner (its limit from the
partner's onboarding `credit_limit`), and the risk capabilities of the roles (risk officer and
organization admin run limits; desk managers read exposure and assessments)."""

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

_READ = [
    "view_creditaccount",
    "view_exposureentry",
    "view_assessment",
    "view_limitchange",
    "view_exposurealert",
    "view_risksettings",
]
_RUN = [*_READ, "set_credit_limit", "approve_credit_limit", "change_creditaccount", "change_risksettings"]
ROLE_PERMISSIONS = {
    "risk_officer": _RUN,
    "organization_admin": _RUN,
    "desk_manager": ["view_creditaccount", "view_exposureentry", "view_assessment", "view_exposurealert"],
}


def forwards(apps: Any, schema_editor: Any) -> None:
    from django.contrib.auth.management import create_permissions

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

    # Permissions are created after migrate; create this app's now so the roles can get them.
    app_config = apps.get_app_config("risk")
    app_config.models_module = True  # the migration state's stub lacks it; create_permissions checks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="risk", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("partners", "0002_partner_profile_vehicles_amendments_kyc"),
        ("accounts", "0002_seed_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
