"""Create the role groups. Their permissions are attached by `roles.sync_roles` after every
migrate (model permissions only exist once post_migrate has run)."""

from django.db import migrations

ROLES = [
    "platform_admin",
    "organization_admin",
    "kyc_officer",
    "desk_manager",
    "risk_officer",
    "partner_owner",
    "partner_trader",
    "partner_viewer",
]


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
