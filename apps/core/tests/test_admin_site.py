"""The back office's admin site (apps.core.admin_site): Django's, with the sidebar's apps list
built only when a page reads it."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.test import RequestFactory
from django.urls import reverse

from apps.accounts.tests.factories import UserFactory
from apps.core.admin_site import BackOfficeSite

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urlconf_loaded():
    """cotton_erp/urls.py configures the site (titles, no sidebar) when it is first imported."""
    reverse("admin:index")


def _request(organization):
    request = RequestFactory().get("/admin/partners/businesspartner/")
    request.user = UserFactory(organization=organization, is_superuser=True)
    return request


def test_the_admin_site_is_the_back_offices():
    assert isinstance(admin.site, BackOfficeSite)
    assert admin.site.enable_nav_sidebar is False


def test_every_pages_context_is_djangos_with_the_apps_list_read_when_used(organization):
    request = _request(organization)

    ours = admin.site.each_context(request)
    djangos = AdminSite.each_context(admin.site, request)

    assert ours.keys() == djangos.keys()
    assert {k: v for k, v in ours.items() if k not in ("available_apps", "log_entries")} == {
        k: v for k, v in djangos.items() if k not in ("available_apps", "log_entries")
    }
    assert list(ours["log_entries"]) == list(djangos["log_entries"])
    assert len(djangos["available_apps"]) > 5
    assert list(ours["available_apps"]) == djangos["available_apps"]


def test_with_the_sidebar_on_the_apps_list_is_built_at_once(organization, monkeypatch):
    monkeypatch.setattr(admin.site, "enable_nav_sidebar", True)

    context = admin.site.each_context(_request(organization))

    assert type(context["available_apps"]) is list


def test_the_home_page_and_an_apps_page_list_their_models(client, organization):
    client.force_login(_request(organization).user, backend="django.contrib.auth.backends.ModelBackend")

    home = client.get("/admin/")
    partners = client.get("/admin/partners/")

    assert home.status_code == partners.status_code == 200
    assert type(home.context["app_list"]) is list
    assert "/admin/partners/businesspartner/" in home.content.decode()
    assert "/admin/partners/businesspartner/" in partners.content.decode()
