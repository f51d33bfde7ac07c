from django.apps import AppConfig


class BookingConfig(AppConfig):
    """Directory, schedules, slots, appointments and payments (issues: booking, payments)."""

    name = "booking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from booking import reminders
        from booking.actions import register_actions
        from booking.demo import seed_booking
        from careconnect.demo import register_demo_seeder

        register_demo_seeder("booking", seed_booking, order=10)
        register_actions()
        reminders.register()
