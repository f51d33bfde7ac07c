from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """Serves the built web app (frontend/dist) for every non-API path."""

    name = "frontend"
    default_auto_field = "django.db.models.BigAutoField"
