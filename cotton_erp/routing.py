"""Websocket URLs: the event stream and a liveness ping."""

from django.urls import path

from apps.core.consumers import PingConsumer
from apps.realtime.consumers import StreamConsumer

websocket_urlpatterns = [
    path("ws/v1/ping/", PingConsumer.as_asgi()),
    path("ws/v1/stream/", StreamConsumer.as_asgi()),
]
