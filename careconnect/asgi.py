"""ASGI entry point: HTTP to Django, websockets behind the Origin check and session auth."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careconnect.settings")
django_asgi_app = get_asgi_application()  # set Django up before importing consumers

if os.environ.get("CARECONNECT_WAL_KEEPER", "1") == "1":
    from careconnect.env import hold_sqlite_wal_open

    hold_sqlite_wal_open()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from careconnect.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
