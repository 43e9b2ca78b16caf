"""The back office's admin site: Django's AdminSite, with the apps list of the navigation
sidebar built only when a page shows it.

Every admin page's context (`each_context`) holds `available_apps`, the apps and models the
staff member may see, with their URLs: 4 ms a page at this project's 43 admins. Only the
navigation sidebar reads it, and this site has none (cotton_erp/urls.py), so it is built when a
template first reads it (never, on a list). The home page's and an app's own list
(`index`, `app_index`) are built as Django builds them.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import partial
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

_LAZY_APP_LIST: ContextVar[bool] = ContextVar("lazy_admin_app_list", default=False)


class BackOfficeSite(AdminSite):
    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        token = _LAZY_APP_LIST.set(not self.enable_nav_sidebar)
        try:
            return super().each_context(request)
        finally:
            _LAZY_APP_LIST.reset(token)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> Any:
        if _LAZY_APP_LIST.get():
            return SimpleLazyObject(partial(super().get_app_list, request, app_label))
        return super().get_app_list(request, app_label)
