"""Prescriptions' part of the demo: a small pharmacy directory in the demo centers' cities,
and the demo patient's preferred pharmacy. Idempotent."""

from __future__ import annotations

from collections.abc import Mapping

from careconnect.accounts.models import User
from prescriptions.models import Pharmacy, PreferredPharmacy

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
