"""Demo data hooks (embedded default only). `seed_demo` lives in the core and must not import
feature apps (DESIGN §2), so each feature app registers the part of the demo it owns from its
`AppConfig.ready()`; `seed_demo` runs them in order after the accounts exist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from careconnect.accounts.models import User

DemoSeeder = Callable[[Mapping[str, "User"]], None]
_seeders: dict[str, tuple[int, DemoSeeder]] = {}


def register_demo_seeder(name: str, seeder: DemoSeeder, *, order: int) -> None:
    if name in _seeders:
        raise ImproperlyConfigured(f"demo seeder {name!r} is registered twice")
    _seeders[name] = (order, seeder)


def run_demo_seeders(users: Mapping[str, User]) -> None:
    """Each seeder gets the demo accounts by email and must be idempotent."""
    for _, seeder in sorted(_seeders.values(), key=lambda item: item[0]):
        seeder(users)
