from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Conversations, messages and the action registry (issue: real-time chat)."""

    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"
