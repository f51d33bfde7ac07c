"""Chat REST adapters: conversations (inbox, care teams), history, sending, editing and
deleting, attachments and chat settings over HTTP (the same services as the websocket)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careconnect.api import request_user as _user
from careconnect.api import validated as _valid
from careconnect.audit.services import record
from careconnect.errors import InvalidInputError
from chat import selectors, services
from chat.api import serializers as s
from chat.attachments import InMemoryUploadHandler
from chat.models import AttachmentType, Conversation, ParticipantRole


def _conversations(conversations: list[Conversation]) -> Any:
    presence = selectors.presence_of(conversations=conversations)
    return s.ConversationOutput(conversations, many=True, context={"presence": presence}).data


class ConversationListApi(APIView):
    @extend_schema(
        parameters=[s.ConversationListInput], responses={200: s.ConversationOutput(many=True)}
    )
    def get(self, request: Request) -> Response:
        data = _valid(s.ConversationListInput, request.query_params)
        conversations = selectors.list_conversations(
            user=_user(request),
            unread_only=data.get("filter") == "unread",
            kind=data["filter"] if data.get("filter") in {"care_team", "doctor"} else None,
            patient_id=data.get("patient"),
            limit=data["limit"],
        )
        return Response(_conversations(conversations))

    @extend_schema(
        request=s.OpenConversationInput,
        responses={200: s.ConversationOutput, 201: s.ConversationOutput},
    )
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.OpenConversationInput, request.data)
        if "center" in data:
            conversation, created = services.open_care_team_conversation(
                actor=actor, center_id=data["center"], patient_id=data.get("patient")
            )
        else:
            conversation, created = services.open_conversation(
                actor=actor, doctor_id=data["doctor"], patient_id=data.get("patient")
            )
        found = selectors.get_conversation_for(user=actor, conversation_id=conversation.id)
        return Response(
            _conversations([found])[0],
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConversationDetailApi(APIView):
    @extend_schema(responses={200: s.ConversationOutput})
    def get(self, request: Request, conversation_id: UUID) -> Response:
        found = selectors.get_conversation_for(user=_user(request), conversation_id=conversation_id)
        return Response(_conversations([found])[0])


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
            acting_for=conversation.patient if role == ParticipantRole.PROXY else None,
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


class MessageDetailApi(APIView):
    @extend_schema(request=s.EditInput, responses={200: s.MessageOutput})
    def patch(self, request: Request, conversation_id: UUID, message_id: UUID) -> Response:
        data = _valid(s.EditInput, request.data)
        message = services.edit_message(
            actor=_user(request),
            message_id=message_id,
            body=data["body"],
            conversation_id=conversation_id,
        )
        return Response(services.message_frame(message, message.conversation))

    @extend_schema(request=None, responses={200: s.MessageOutput})
    def delete(self, request: Request, conversation_id: UUID, message_id: UUID) -> Response:
        message = services.delete_message(
            actor=_user(request), message_id=message_id, conversation_id=conversation_id
        )
        return Response(services.message_frame(message, message.conversation))


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


class AttachmentUploadApi(APIView):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body (the CSRF check does): uploads stay in memory.
        request.upload_handlers = [InMemoryUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.AttachmentInput},
        responses={200: s.MessageOutput, 201: s.MessageOutput},
    )
    def post(self, request: Request, conversation_id: UUID) -> Response:
        actor = _user(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInputError("Choose a file to attach.", file=["This field is required."])
        form = request.data if isinstance(request.data, dict) else {}
        data = _valid(
            s.AttachmentInput,
            {"file": upload, "client_id": form.get("client_id"), "body": form.get("body", "")},
        )
        message, created = services.send_attachment(
            conversation_id=conversation_id,
            actor=actor,
            name=upload.name or "",
            data=upload.read(),
            body=data["body"],
            client_id=data["client_id"],
        )
        return Response(
            services.message_frame(message, message.conversation),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AttachmentDownloadApi(APIView):
    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, with its own Content-Type (an image or a PDF).",
            )
        }
    )
    def get(self, request: Request, attachment_id: UUID) -> HttpResponse:
        attachment, name, data = services.read_attachment(
            actor=_user(request), attachment_id=attachment_id
        )
        response = HttpResponse(data, content_type=attachment.content_type)
        # Images inline (previews use this URL as <img src>); PDFs are downloaded.
        as_attachment = attachment.content_type == AttachmentType.PDF
        response["Content-Disposition"] = content_disposition_header(as_attachment, name) or ""
        response["Cache-Control"] = "no-store, private"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ChatSettingsApi(APIView):
    @extend_schema(responses={200: s.ChatSettingsOutput})
    def get(self, request: Request) -> Response:
        return Response(s.ChatSettingsOutput(selectors.get_chat_settings(user=_user(request))).data)

    @extend_schema(request=s.ChatSettingsInput, responses={200: s.ChatSettingsOutput})
    def patch(self, request: Request) -> Response:
        data = _valid(s.ChatSettingsInput, request.data)
        updated = services.update_chat_settings(
            actor=_user(request), show_presence=data["show_presence"]
        )
        return Response(s.ChatSettingsOutput(updated).data)


class CenterChatSettingsApi(APIView):
    @extend_schema(responses={200: s.CenterChatSettingsOutput})
    def get(self, request: Request, center_id: UUID) -> Response:
        _user(request)
        found = selectors.get_center_chat_settings(center_id=center_id)
        return Response(s.CenterChatSettingsOutput(found).data)

    @extend_schema(request=s.CenterChatSettingsInput, responses={200: s.CenterChatSettingsOutput})
    def patch(self, request: Request, center_id: UUID) -> Response:
        data = _valid(s.CenterChatSettingsInput, request.data)
        updated = services.update_center_chat_settings(
            actor=_user(request), center_id=center_id, expected_reply=data["expected_reply"]
        )
        return Response(s.CenterChatSettingsOutput(updated).data)
