"""factory_boy factories, exposed through typed `make_*` functions for the tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.utils import timezone
from factory.declarations import LazyFunction, Sequence
from factory.django import DjangoModelFactory, Password
from factory.faker import Faker

from careconnect.accounts.models import DoctorProfile, MedicalCenter, Role, RoleAssignment, User

PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = Sequence(lambda n: f"user{n}@example.test")
    first_name = Faker("first_name")
    last_name = Faker("last_name")
    email_confirmed_at = LazyFunction(timezone.now)
    password = Password(PASSWORD)


class CenterFactory(DjangoModelFactory[MedicalCenter]):
    class Meta:
        model = MedicalCenter

    name = Sequence(lambda n: f"Clinic {n}")
    city = "Lisbon"
    address = "1 Main Street"
    latitude = Decimal("38.700000")
    longitude = Decimal("-9.100000")
    timezone = "Europe/Lisbon"


def make_user(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def make_center(**fields: Any) -> MedicalCenter:
    return cast(MedicalCenter, CenterFactory(**fields))


def make_patient(**fields: Any) -> User:
    user = make_user(**fields)
    RoleAssignment.objects.create(user=user, role=Role.PATIENT)
    return user


def make_staff(*, role: str = Role.NURSE, center: MedicalCenter | None = None) -> User:
    user = make_user()
    RoleAssignment.objects.create(user=user, role=role, center=center or make_center())
    return user


def make_doctor(
    *, center: MedicalCenter | None = None, fee_online: Decimal | str | None = None
) -> User:
    """A doctor; free unless given a fee (a fee makes bookings await payment)."""
    center = center or make_center()
    user = make_staff(role=Role.DOCTOR, center=center)
    DoctorProfile.objects.create(
        user=user, center=center, fee_online=Decimal(fee_online) if fee_online else None
    )
    return user
