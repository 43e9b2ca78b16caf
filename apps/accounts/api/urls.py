"""URLs of the accounts API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.accounts.api import auth, users

urlpatterns: list[URLPattern] = []
urlpatterns += auth.urlpatterns
urlpatterns += users.urlpatterns
