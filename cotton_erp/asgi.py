"""ASGI entry point: HTTP through Django, websockets through Channels (one uvicorn serves both)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cotton_erp.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.core.body_limit import BodyLimitASGIMiddleware  # noqa: E402
from apps.realtime.handshake import OriginCheck  # noqa: E402
from cotton_erp.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Bodies over the API limit are refused before Django's handler reads them (issue 14).
        "http": BodyLimitASGIMiddleware(django_asgi_app),
        # Origin checked only when sent (browsers); server clients send none and use a ticket.
        "websocket": OriginCheck(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
