"""Websocket URLs. The event stream (`/ws/v1/stream/`) arrives with the realtime app."""

from django.urls import path

from apps.core.consumers import PingConsumer

websocket_urlpatterns = [
    path("ws/v1/ping/", PingConsumer.as_asgi()),
]
