from django.apps import AppConfig


class PrescriptionsConfig(AppConfig):
    """Prescriptions, safety checks, refills and pharmacies (issue: prescriptions)."""

    name = "prescriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from careconnect.demo import register_demo_seeder
        from prescriptions import actions
        from prescriptions.demo import seed_prescriptions

        register_demo_seeder("prescriptions", seed_prescriptions, order=30)
        actions.register_actions()
