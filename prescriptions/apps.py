from django.apps import AppConfig


class PrescriptionsConfig(AppConfig):
    """Prescriptions, safety checks, refills and pharmacies (issue: prescriptions)."""

    name = "prescriptions"
    default_auto_field = "django.db.models.BigAutoField"
