from django.urls import path

from apps.realtime.api.views import TicketCreateApi

urlpatterns = [path("realtime/tickets/", TicketCreateApi.as_view(), name="realtime-ticket-create")]
