from django.urls import path

from apps.core.api.views import HealthLiveApi, HealthReadyApi

urlpatterns = [
    path("health/live", HealthLiveApi.as_view(), name="health-live"),
    path("health/ready", HealthReadyApi.as_view(), name="health-ready"),
]
