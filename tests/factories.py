from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from careconnect.accounts.models import (
    DoctorProfile,
    MedicalCenter,
    Role,
    RoleAssignment,
    User,
)

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password(PASSWORD)


class PatientFactory(UserFactory):
    @factory.post_generation
    def role(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        RoleAssignment.objects.create(user=self, role=Role.PATIENT)


class CenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalCenter

    name = factory.Sequence(lambda n: f"Clinic {n}")
    city = "Lisbon"
    address = "1 Main Street"
    latitude = Decimal("38.700000")
    longitude = Decimal("-9.100000")
    timezone = "Europe/Lisbon"


def make_staff(*, role: str = Role.NURSE, center: MedicalCenter | None = None) -> User:
    user: User = UserFactory()
    RoleAssignment.objects.create(user=user, role=role, center=center or CenterFactory())
    return user


class DoctorFactory(UserFactory):
    @factory.post_generation
    def center(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        center = extracted or CenterFactory()
        RoleAssignment.objects.create(user=self, role=Role.DOCTOR, center=center)
        DoctorProfile.objects.create(user=self, center=center, fee_online=Decimal("30.00"))
