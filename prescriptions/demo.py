"""Prescriptions' part of the demo: a small pharmacy directory in the demo centers' cities,
the demo patient's preferred pharmacy, and a visit with doctor@demo.test yesterday (so the
doctor can prescribe at once) after which they prescribed lisinopril with refills (so the
patient can try a refill and a pharmacy send). Idempotent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from booking.models import Appointment, Mode, Slot, SlotMode
from careconnect.accounts.models import CareRelationship, DoctorProfile, User
from prescriptions.catalog import medication_id
from prescriptions.models import Pharmacy, PreferredPharmacy, Prescription

DEMO_PHARMACIES = [
    {
        "name": "Farmácia Central",
        "address": "Rua Augusta 120",
        "city": "Lisbon",
        "postal_code": "1100-053",
        "phone": "+351 21 000 0101",
        "email": "orders@farmacia-central.demo.test",
        "opening_hours": "Mon-Sat 08:30-20:00",
    },
    {
        "name": "Farmácia do Rato",
        "address": "Largo do Rato 3",
        "city": "Lisbon",
        "postal_code": "1250-186",
        "phone": "+351 21 000 0202",
        "email": "rx@farmacia-rato.demo.test",
        "opening_hours": "Every day 09:00-21:00",
    },
    {
        "name": "Farmácia da Boavista",
        "address": "Avenida da Boavista 1500",
        "city": "Porto",
        "postal_code": "4100-114",
        "phone": "+351 22 000 0303",
        "email": "receitas@farmacia-boavista.demo.test",
        "opening_hours": "Mon-Fri 09:00-19:30",
    },
]


def seed_prescriptions(users: Mapping[str, User]) -> None:
    for fields in DEMO_PHARMACIES:
        Pharmacy.objects.get_or_create(name=fields["name"], city=fields["city"], defaults=fields)
    patient = users["patient@demo.test"]
    first = Pharmacy.objects.filter(name=DEMO_PHARMACIES[0]["name"]).first()
    if first is not None:
        PreferredPharmacy.objects.get_or_create(patient=patient, defaults={"pharmacy": first})
    seed_demo_prescription(users, password="demo-pass-2026")  # noqa: S106 - API.md's demo password


def seed_demo_prescription(users: Mapping[str, User], password: str) -> None:
    from prescriptions.services import issue_prescription

    patient, doctor_user = users["patient@demo.test"], users["doctor@demo.test"]
    doctor = DoctorProfile.objects.select_related("center").get(user=doctor_user)
    if Prescription.objects.filter(patient=patient, doctor=doctor).exists():
        return
    zone = ZoneInfo(doctor.center.timezone or "UTC")
    day = timezone.localdate(timezone.now(), zone) - timedelta(days=1)
    start = datetime.combine(day, time(10, 0), zone)
    with transaction.atomic():
        slot, _ = Slot.objects.get_or_create(
            doctor=doctor,
            start=start,
            defaults={
                "end": start + timedelta(minutes=30),
                "mode": SlotMode.ONLINE,
                "opens_at": start - timedelta(days=28),
                "closes_at": start - timedelta(hours=1),
                "published": False,
            },
        )
        appointment = Appointment.objects.create(
            doctor=doctor,
            patient=patient,
            booked_by=patient,
            slot=slot,
            start=slot.start,
            end=slot.end,
            mode=Mode.ONLINE,
            status=Appointment.Status.COMPLETED,
        )
        CareRelationship.objects.get_or_create(patient=patient, clinician=doctor_user)
        issue_prescription(
            actor=doctor_user,
            patient_id=patient.id,
            appointment_id=appointment.id,
            items=[
                {
                    "medication": str(medication_id("lisinopril")),
                    "strength": "10 mg",
                    "form": "tablet",
                    "dose": "1 tablet",
                    "route": "oral",
                    "frequency": "once_daily",
                    "duration_days": 30,
                    "quantity": 30,
                    "refills": 2,
                    "instructions": "Take in the morning. Check your blood pressure weekly.",
                    "substitution_allowed": True,
                }
            ],
            password=password,
        )
