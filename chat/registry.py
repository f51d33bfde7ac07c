"""The one registry of structured chat actions (DESIGN §3, STYLE "Structured chat actions").
Feature apps register their action types from `AppConfig.ready()`; chat never imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from rest_framework import serializers

from careconnect.errors import ApplicationError
from chat.models import CardState, ParticipantRole

JSON = dict[str, Any]


class UnknownActionError(ApplicationError):
    code = "unknown_action"
    status = 400
    default_message = "That action does not exist."


@dataclass(frozen=True, slots=True)
class ActionResult:
    payload: JSON  # ids and display fields for the card; never PHI
    target: models.Model | None  # the appointment / payment / prescription produced
    state: str = CardState.OPEN
    body: str = ""  # free text that is PHI (a reason for the visit): stored sealed, like text


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # "<app>.<verb>_<noun>"
    payload_serializer: type[serializers.Serializer[Any]]
    allowed_roles: frozenset[str]
    handler: Callable[..., ActionResult]


_registry: dict[str, ActionSpec] = {}


def register(spec: ActionSpec) -> None:
    if spec.name in _registry:
        raise ImproperlyConfigured(f"chat action {spec.name!r} is registered twice")
    _registry[spec.name] = spec


def get_action(name: str) -> ActionSpec:
    spec = _registry.get(name)
    if spec is None:
        raise UnknownActionError(action=[name[:80]])
    return spec


def registered_actions() -> dict[str, ActionSpec]:
    return dict(_registry)


PATIENT_SIDE = frozenset({ParticipantRole.PATIENT, ParticipantRole.PROXY})
CARE_SIDE = frozenset({ParticipantRole.DOCTOR, ParticipantRole.NURSE, ParticipantRole.STAFF})
