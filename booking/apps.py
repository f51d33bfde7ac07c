from django.apps import AppConfig


class BookingConfig(AppConfig):
    """Directory, schedules, slots, appointments and payments (issues: booking, payments)."""

    name = "booking"
    default_auto_field = "django.db.models.BigAutoField"
