"""The consult signaling route; ConsultConfig.ready() adds it to careconnect.routing."""

from typing import Any

from django.urls import path

from consult.consumers import ConsultConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/consult/<uuid:consult_id>/", ConsultConsumer.as_asgi()),  # type: ignore[arg-type]
]
