from django.urls import path

from apps.events.api.views import EventFeedApi

urlpatterns = [path("events/", EventFeedApi.as_view(), name="events-feed")]
