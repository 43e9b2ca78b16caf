"""Data: the matching capabilities of the back-office roles. Every staff role reads proposals
(the admin's Matches screen shows both sides); desk managers and organization admins also
maintain the organization's matching settings and the commodities' weights versions."""

from __future__ import annotations

from typing import Any

from django.db import migrations

_READ = ["view_matchproposal", "view_matchingweights", "view_matchingsettings"]
_RUN = [*_READ, "add_matchingweights", "change_matchingweights", "add_matchingsettings", "change_matchingsettings"]
ROLE_PERMISSIONS = {
    "organization_admin": _RUN,
    "desk_manager": _RUN,
    "risk_officer": _READ,
    "kyc_officer": ["view_matchproposal"],
}


def forwards(apps: Any, schema_editor: Any) -> None:
    from django.contrib.auth.management import create_permissions

    # Permissions are created after migrate; create this app's now so the roles can get them.
    app_config = apps.get_app_config("matching")
    app_config.models_module = True  # the migration state's stub lacks it; create_permissions checks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="matching", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0001_initial"),
        ("accounts", "0002_seed_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
