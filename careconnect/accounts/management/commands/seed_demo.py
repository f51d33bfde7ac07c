"""Demo data of API.md (embedded default only). Idempotent: running it twice changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from careconnect.accounts.access import PatientAccess
from careconnect.accounts.models import (
    ALL_SCOPES,
    CareGrant,
    CareRelationship,
    DoctorProfile,
    MedicalCenter,
    Role,
    RoleAssignment,
    Specialty,
    User,
)
from careconnect.accounts.services import update_profile
from careconnect.demo import run_demo_seeders

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - documented demo credential (API.md)


class Command(BaseCommand):
    help = "Load the demo accounts, centers and doctors (embedded default only; idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Refusing to load demo data: CARECONNECT_PRODUCTION is on.")
        with transaction.atomic():
            created = seed()
        self.stdout.write(f"demo data ready ({created} accounts created)")


def _user(
    email: str, first: str, last: str, role: str, center: MedicalCenter | None
) -> tuple[User, bool]:
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
            email_confirmed_at=timezone.now(),
        )
    RoleAssignment.objects.get_or_create(user=user, role=role, center=center)
    return user, created


def seed() -> int:
    north, _ = MedicalCenter.objects.get_or_create(
        name="Riverside Family Clinic",
        defaults={
            "address": "12 River Street",
            "city": "Lisbon",
            "latitude": Decimal("38.7223"),
            "longitude": Decimal("-9.1393"),
            "phone": "+351 21 000 1000",
            "timezone": "Europe/Lisbon",
        },
    )
    south, _ = MedicalCenter.objects.get_or_create(
        name="Harbor Heart & Skin Center",
        defaults={
            "address": "400 Harbor Avenue",
            "city": "Porto",
            "latitude": Decimal("41.1579"),
            "longitude": Decimal("-8.6291"),
            "phone": "+351 22 000 2000",
            "timezone": "Europe/Lisbon",
        },
    )
    accounts = [
        ("patient@demo.test", "Maria", "Santos", Role.PATIENT, None),
        ("family@demo.test", "João", "Santos", Role.PATIENT, None),
        ("doctor@demo.test", "Ana", "Ferreira", Role.DOCTOR, north),
        ("doctor2@demo.test", "Rui", "Costa", Role.DOCTOR, south),
        ("nurse@demo.test", "Inês", "Lopes", Role.NURSE, north),
        ("admin@demo.test", "Carlos", "Mendes", Role.CENTER_ADMIN, north),
    ]
    users: dict[str, User] = {}
    created_count = 0
    for email, first, last, role, center in accounts:
        users[email], created = _user(email, first, last, role, center)
        created_count += int(created)

    doctors = [
        (
            users["doctor@demo.test"],
            north,
            ["family-medicine", "pediatrics"],
            ["en", "pt", "es"],
            Decimal("35.00"),
            Decimal("50.00"),
            "MD-PT-10231",
            "Family doctor with 12 years of practice; children and adults; online consults daily.",
        ),
        (
            users["doctor2@demo.test"],
            south,
            ["cardiology", "dermatology"],
            ["en", "pt"],
            Decimal("60.00"),
            Decimal("80.00"),
            "MD-PT-20877",
            "Cardiologist and dermatologist; heart health checks and skin consultations.",
        ),
    ]
    for user, center, specialties, languages, online, in_person, license_number, bio in doctors:
        doctor, made = DoctorProfile.objects.get_or_create(
            user=user,
            defaults={
                "center": center,
                "languages": languages,
                "fee_online": online,
                "fee_in_person": in_person,
                "currency": "USD",
                "license_number": license_number,
                "bio": bio,
            },
        )
        if made:
            doctor.specialties.set(Specialty.objects.filter(slug__in=specialties))

    patient = users["patient@demo.test"]
    family = users["family@demo.test"]
    if not CareGrant.objects.filter(patient=patient, grantee=family).exists():
        CareGrant.objects.create(
            patient=patient,
            grantee=family,
            email=family.email or "",
            scopes=ALL_SCOPES,
            status=CareGrant.Status.ACTIVE,
            accepted_at=timezone.now(),
        )
    CareRelationship.objects.get_or_create(
        patient=patient, clinician=users["doctor@demo.test"], defaults={"source": "demo"}
    )
    CareRelationship.objects.get_or_create(
        patient=patient, clinician=users["nurse@demo.test"], defaults={"source": "demo"}
    )
    if patient.data_key_id is None:  # first run: give the demo patient a health summary
        update_profile(
            actor=patient,
            access=PatientAccess(patient=patient, acting_for=False),
            data={
                "date_of_birth": date(1986, 4, 12),
                "phone": "+351 912 345 678",
                "address": {
                    "line1": "Rua das Flores 20",
                    "line2": "",
                    "city": "Lisbon",
                    "region": "",
                    "postal_code": "1200-195",
                    "country": "Portugal",
                },
                "emergency_contact": {
                    "name": "João Santos",
                    "relationship": "Husband",
                    "phone": "+351 913 000 111",
                },
                "allergies": [
                    {"substance": "Penicillin", "reaction": "Hives", "severity": "moderate"}
                ],
                "conditions": [{"name": "Asthma", "notes": "Mild, seasonal"}],
                "medications": [
                    {"name": "Salbutamol inhaler", "dose": "100 mcg", "frequency": "As needed"}
                ],
            },
        )
    run_demo_seeders(users)
    return created_count
