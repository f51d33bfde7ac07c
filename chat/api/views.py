"""Chat REST adapters: conversations, history, and sending over HTTP (the same services as
the websocket)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careconnect.accounts.models import User
from careconnect.audit.services import record
from careconnect.errors import NotAuthenticatedError
from chat import selectors, services
from chat.api import serializers as s


def _user(request: Request) -> User:
    if not isinstance(request.user, User):
        raise NotAuthenticatedError()
    return request.user


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ConversationListApi(APIView):
    @extend_schema(responses={200: s.ConversationOutput(many=True)})
    def get(self, request: Request) -> Response:
        conversations = selectors.list_conversations(user=_user(request))[:200]
        return Response(s.ConversationOutput(conversations, many=True).data)

    @extend_schema(
        request=s.OpenConversationInput,
        responses={200: s.ConversationOutput, 201: s.ConversationOutput},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.OpenConversationInput, request.data)
        conversation, created = services.open_conversation(
            actor=_user(request), doctor_id=data["doctor"], patient_id=data.get("patient")
        )
        conversation = selectors.get_conversation(conversation_id=conversation.id)
        return Response(
            s.ConversationOutput(conversation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageListApi(APIView):
    @extend_schema(parameters=[s.HistoryInput], responses={200: s.MessageOutput(many=True)})
    def get(self, request: Request, conversation_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.HistoryInput, request.query_params)
        conversation = selectors.get_conversation(conversation_id=conversation_id)
        role = selectors.participant_role(conversation=conversation, user=actor)
        page = selectors.history(
            conversation=conversation, before_seq=data.get("before_seq"), limit=data["limit"]
        )
        record(
            actor=actor,
            action="chat.history.read",
            object_type="chat.conversation",
            object_id=conversation.id,
            patient=conversation.patient,
            acting_for=conversation.patient if role == "proxy" else None,
            detail={"count": len(page)},
        )
        return Response([services.message_frame(m, conversation) for m in page])

    @extend_schema(request=s.SendInput, responses={201: s.MessageOutput})
    def post(self, request: Request, conversation_id: UUID) -> Response:
        data = _valid(s.SendInput, request.data)
        message = services.send_text(
            conversation_id=conversation_id,
            actor=_user(request),
            body=data["body"],
            client_id=data["client_id"],
        )
        return Response(
            services.message_frame(message, message.conversation), status=status.HTTP_201_CREATED
        )


class ActionSubmitApi(APIView):
    @extend_schema(request=s.ActionInput, responses={201: s.MessageOutput})
    def post(self, request: Request, conversation_id: UUID) -> Response:
        data = _valid(s.ActionInput, request.data)
        message = services.submit_action(
            conversation_id=conversation_id,
            actor=_user(request),
            name=data["action"],
            payload=data["payload"],
            client_id=data["client_id"],
        )
        return Response(
            services.message_frame(message, message.conversation), status=status.HTTP_201_CREATED
        )
