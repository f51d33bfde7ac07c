"""ASGI entry point: HTTP to Django, websockets behind the Origin check and session auth
(careconnect.accounts.websocket: the session cookie's user, nothing else kept per socket)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careconnect.settings")
django_asgi_app = get_asgi_application()  # set Django up before importing consumers

if os.environ.get("CARECONNECT_WAL_KEEPER", "1") == "1":
    from careconnect.env import hold_sqlite_wal_open

    hold_sqlite_wal_open()

import logging  # noqa: E402
from typing import Any  # noqa: E402

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import (  # noqa: E402
    AllowedHostsOriginValidator,
    OriginValidator,
)

from careconnect.accounts.websocket import SessionUserMiddleware  # noqa: E402
from careconnect.routing import websocket_urlpatterns  # noqa: E402

logger = logging.getLogger("careconnect.websocket")


class LoggedOriginValidator(OriginValidator):
    """channels' Origin check (ALLOWED_HOSTS), logging each refused handshake."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if super().valid_origin(parsed_origin):
            return True
        origin = f"{parsed_origin.scheme}://{parsed_origin.netloc}" if parsed_origin else None
        logger.warning("websocket handshake refused: origin %r not allowed", origin)
        return False


def _origin_checked(app: Any) -> LoggedOriginValidator:
    allowed = AllowedHostsOriginValidator(app).allowed_origins
    return LoggedOriginValidator(app, allowed)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": _origin_checked(SessionUserMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
