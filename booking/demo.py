"""Booking's part of the demo (API.md): both demo doctors publish weekday availability for
the next 4 weeks, and the demo patient has an upcoming online appointment with
doctor@demo.test. Idempotent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta

from django.conf import settings
from django.utils import timezone

from booking import selectors, services
from booking.models import Appointment, AvailabilityRule, Mode, SlotMode
from booking.payments import services as payments
from booking.payments.dev import CARD_SUCCEEDS
from careconnect.accounts.models import DoctorProfile, User

DEMO_RULE = {
    "weekdays": [1, 2, 3, 4, 5],
    "start_time": time(9, 0),
    "end_time": time(17, 0),
    "slot_minutes": 30,
    "buffer_minutes": 0,
    "mode": SlotMode.BOTH,
    "min_notice_minutes": 60,
    "booking_horizon_days": 28,
}


def seed_booking(users: Mapping[str, User]) -> None:
    for email in ("doctor@demo.test", "doctor2@demo.test"):
        doctor = DoctorProfile.objects.get(user=users[email])
        if not AvailabilityRule.objects.filter(doctor=doctor).exists():
            services.create_rule(
                actor=users[email],
                doctor_id=doctor.id,
                data={**DEMO_RULE, "effective_from": timezone.localdate() - timedelta(days=1)},
            )
    patient, doctor_user = users["patient@demo.test"], users["doctor@demo.test"]
    doctor = DoctorProfile.objects.get(user=doctor_user)
    upcoming = Appointment.objects.filter(
        patient=patient, doctor=doctor, start__gt=timezone.now()
    ).exclude(status=Appointment.Status.CANCELLED)
    if upcoming.exists():
        return
    soon = timezone.now() + timedelta(days=2)
    slot = (
        selectors.free_slots(mode=Mode.ONLINE)
        .filter(doctor=doctor, start__gte=soon)
        .order_by("start")
        .first()
    )
    if slot is not None:
        appointment = services.book_slot(
            actor=patient,
            slot_id=slot.id,
            mode=Mode.ONLINE,
            reason="Follow-up on seasonal asthma",
        )
        fee = payments.booking_payment(appointment)
        if fee is not None and settings.PAYMENT_GATEWAY == "dev":  # paid, as a real demo would be
            payments.dev_pay(actor=patient, payment_id=fee.id, card_number=CARD_SUCCEEDS)
