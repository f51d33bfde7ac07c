"""Consult REST adapters: the page's view of a consult, ending it, the visit note."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careconnect.api import request_user as _user
from chat.models import Conversation
from chat.services import display_name
from consult import services
from consult.api import serializers as s
from consult.consumers import consult_group


def _render(view: services.ConsultView) -> dict[str, Any]:
    appointment = view.appointment
    conversation = (
        Conversation.objects.filter(
            kind=Conversation.Kind.DOCTOR,
            patient_id=appointment.patient_id,
            doctor_id=appointment.doctor_id,
        )
        .values_list("id", flat=True)
        .first()
    )
    return {
        "id": view.consult_id,
        "appointment": appointment.id,
        "role": view.role,
        "status": view.status,
        "joinable": view.joinable,
        "opens_at": view.opens_at,
        "closes_at": view.closes_at,
        "start": appointment.start,
        "end": appointment.end,
        "doctor_name": f"Dr {appointment.doctor.user.full_name}",
        "patient_name": display_name(appointment.patient),
        "conversation": conversation,
        "waiting": view.waiting,
        "ice_servers": view.ice_servers,
        "video": {"width": settings.CONSULT_VIDEO_WIDTH, "height": settings.CONSULT_VIDEO_HEIGHT},
        "started_at": view.started_at,
        "ended_at": view.ended_at,
    }


class ConsultDetailApi(APIView):
    @extend_schema(responses={200: s.ConsultOutput})
    def get(self, request: Request, consult_id: UUID) -> Response:
        view = services.consult_view(actor=_user(request), consult_id=consult_id)
        return Response(s.ConsultOutput(_render(view)).data)


class EndConsultApi(APIView):
    @extend_schema(request=None, responses={200: s.ConsultOutput})
    def post(self, request: Request, consult_id: UUID) -> Response:
        actor = _user(request)
        services.end_consult(actor=actor, consult_id=consult_id)
        # Everyone still on the call's socket hears it (and the room closes), as for the
        # socket's own `end`.
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(consult_group(consult_id), {"type": "consult.ended"})
        view = services.consult_view(actor=actor, consult_id=consult_id)
        return Response(s.ConsultOutput(_render(view)).data)


class NoteApi(APIView):
    @extend_schema(responses={200: s.NoteOutput})
    def get(self, request: Request, consult_id: UUID) -> Response:
        consult, text = services.read_note(actor=_user(request), consult_id=consult_id)
        updated = consult.note_updated_at if consult else None
        return Response(s.NoteOutput({"text": text, "updated_at": updated}).data)

    @extend_schema(request=s.NoteInput, responses={200: s.NoteOutput})
    def put(self, request: Request, consult_id: UUID) -> Response:
        serializer = s.NoteInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        text = serializer.validated_data["text"]
        consult = services.write_note(actor=_user(request), consult_id=consult_id, text=text)
        return Response(s.NoteOutput({"text": text, "updated_at": consult.note_updated_at}).data)


class WaitingApi(APIView):
    @extend_schema(responses={200: s.WaitingOutput(many=True)})
    def get(self, request: Request) -> Response:
        return Response(s.WaitingOutput(services.waiting_for(actor=_user(request)), many=True).data)
