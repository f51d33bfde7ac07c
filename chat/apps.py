from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Conversations, messages, the action registry and the chat websocket (issue: chat)."""

    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from careconnect import routing
        from chat.routing import websocket_urlpatterns

        routing.websocket_urlpatterns.extend(websocket_urlpatterns)
