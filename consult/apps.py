from django.apps import AppConfig


class ConsultConfig(AppConfig):
    """Video consult sessions and the aiortc media relay (issue: video consults)."""

    name = "consult"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from careconnect import routing
        from consult import actions
        from consult.routing import websocket_urlpatterns

        actions.register_actions()
        routing.websocket_urlpatterns.extend(websocket_urlpatterns)
