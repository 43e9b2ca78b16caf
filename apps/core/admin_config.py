"""django.contrib.admin with the back office's site (apps.core.admin_site.BackOfficeSite) as
`admin.site`; in INSTALLED_APPS in its place."""

from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    default_site = "apps.core.admin_site.BackOfficeSite"
