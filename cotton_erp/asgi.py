"""ASGI entry point: HTTP through Django, websockets through Channels (one uvicorn serves both)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cotton_erp.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application() does

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from apps.core.asgi_handler import OneThreadASGIHandler  # noqa: E402

# The middleware chain and the view in one hop to the request's thread (issue 15,
# apps/core/asgi_handler.py); Django's own handler hops to a thread for each sync hook.
django_asgi_app = OneThreadASGIHandler() if settings.ASGI_ONE_THREAD else ASGIHandler()

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

from apps.core.runtime import freeze_startup_objects  # noqa: E402

freeze_startup_objects()  # last: everything the process has loaded so far stays out of the collector's way
