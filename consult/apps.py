from django.apps import AppConfig


class ConsultConfig(AppConfig):
    """Video consult sessions and the aiortc media relay (issue: video consults)."""

    name = "consult"
    default_auto_field = "django.db.models.BigAutoField"
