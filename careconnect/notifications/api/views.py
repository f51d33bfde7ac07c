"""Notification REST adapters (API.md Notifications): validate input, make one service or
selector call, render. The Twilio webhooks answer TwiML (inbound) or an empty 200 (status)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from twilio.twiml.messaging_response import MessagingResponse

from careconnect.accounts.models import User
from careconnect.accounts.permissions import Anyone
from careconnect.accounts.services import require_center_admin
from careconnect.api import ScopedThrottle
from careconnect.api import request_user as _user
from careconnect.api import validated as _valid
from careconnect.errors import PermissionDeniedError
from careconnect.notifications import phones, selectors, services, twilio_webhooks
from careconnect.notifications.api import serializers as s

INBOUND_PATH = "/api/notifications/twilio/inbound/"
STATUS_PATH = "/api/notifications/twilio/status/"


# ------------------------------------------------------------------ in-app inbox


class InboxApi(APIView):
    @extend_schema(operation_id="notifications_list", responses={200: s.InboxOutput})
    def get(self, request: Request) -> Response:
        rows, unread = services.inbox(actor=_user(request))
        return Response({"unread": unread, "results": s.NotificationOutput(rows, many=True).data})


class MarkReadApi(APIView):
    @extend_schema(request=s.MarkReadInput, responses={200: s.UnreadOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.MarkReadInput, request.data)
        services.mark_read(actor=actor, ids=data.get("ids"))
        _, unread = services.inbox(actor=actor, limit=0)
        return Response({"unread": unread})


# ------------------------------------------------------------------ preferences and phone


class PreferencesApi(APIView):
    @extend_schema(responses={200: s.PreferencesOutput})
    def get(self, request: Request) -> Response:
        return Response(s.PreferencesOutput(selectors.get_preferences(user=_user(request))).data)

    @extend_schema(request=s.PreferencesInput, responses={200: s.PreferencesOutput})
    def patch(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PreferencesInput, request.data)
        quiet: Any = False
        if "quiet_hours" in data:
            hours = data["quiet_hours"]
            quiet = None if hours is None else (hours["start"], hours["end"])
        services.update_preferences(
            actor=actor,
            kinds={kind: dict(channels) for kind, channels in data.get("kinds", {}).items()},
            timezone_name=data.get("timezone"),
            quiet_hours=quiet,
        )
        return Response(s.PreferencesOutput(selectors.get_preferences(user=actor)).data)


class StartPhoneVerificationApi(APIView):
    throttle_classes = [ScopedThrottle]
    throttle_scope = "phone_verify"

    @extend_schema(request=s.PhoneInput, responses={202: s.PhoneSentOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PhoneInput, request.data)
        verification = phones.start_verification(actor=actor, number=data["phone"])
        return Response(
            {"sent": True, "expires_at": verification.expires_at}, status=status.HTTP_202_ACCEPTED
        )


class ConfirmPhoneApi(APIView):
    @extend_schema(request=s.PhoneConfirmInput, responses={200: s.PreferencesOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PhoneConfirmInput, request.data)
        phones.confirm_verification(actor=actor, code=data["code"])
        return Response(s.PreferencesOutput(selectors.get_preferences(user=actor)).data)


# ------------------------------------------------------------------ one-tap links


class LinkApi(APIView):
    """The link is the credential: it works signed out. Signed in, it must be yours."""

    permission_classes = [Anyone]

    @extend_schema(operation_id="notifications_link_read", responses={200: s.LinkOutput})
    def get(self, request: Request, token: str) -> Response:
        actor = request.user if isinstance(request.user, User) else None
        data = services.link_info(token=token, actor=actor)
        expires_at = datetime.fromtimestamp(data["expires"], tz=UTC)
        return Response(s.LinkOutput({"purpose": data["purpose"], "expires_at": expires_at}).data)

    @extend_schema(
        operation_id="notifications_link_use", request=None, responses={200: s.LinkUsedOutput}
    )
    def post(self, request: Request, token: str) -> Response:
        actor = request.user if isinstance(request.user, User) else None
        result = services.use_link(token=token, actor=actor)
        return Response(s.LinkUsedOutput(result).data)


# ------------------------------------------------------------------ delivery log


class DeliveryLogApi(APIView):
    @extend_schema(parameters=[s.LogInput], responses={200: s.LogOutput})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.LogInput, request.query_params)
        if data.get("center"):
            center_ids = [require_center_admin(actor, data["center"]).id]
        else:
            center_ids = selectors.admin_center_ids(actor)
            if not center_ids:
                raise PermissionDeniedError("Only center administrators can see delivery logs.")
        rows = selectors.list_delivery_log(
            center_ids=center_ids, channel=data.get("channel"), status=data.get("status")
        )
        return Response({"results": s.LogEntryOutput(rows, many=True).data})


# ------------------------------------------------------------------ Twilio webhooks


def _twilio_params(request: Request) -> dict[str, str]:
    return {key: str(request.POST.get(key, "")) for key in request.POST}


def _verify(request: Request, path: str) -> dict[str, str]:
    params = _twilio_params(request)
    signature = str(request.headers.get("X-Twilio-Signature", ""))
    if not twilio_webhooks.signature_is_valid(path=path, params=params, signature=signature):
        raise PermissionDeniedError("The Twilio signature is missing or wrong.")
    return params


TWILIO_FORM = {
    "application/x-www-form-urlencoded": {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }
}


class TwilioInboundApi(APIView):
    """Twilio's "A message comes in" webhook: a reply C / R / X to a reminder."""

    authentication_classes: list[Any] = []
    permission_classes = [Anyone]
    parser_classes = [FormParser]

    @extend_schema(
        request=TWILIO_FORM,
        responses={
            (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="TwiML reply"),
            403: OpenApiResponse(description="Bad or missing X-Twilio-Signature"),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        params = _verify(request, INBOUND_PATH)
        reply = twilio_webhooks.receive_sms(
            sid=params.get("MessageSid", ""),
            sender=params.get("From", ""),
            text=params.get("Body", ""),
        )
        twiml = MessagingResponse()
        twiml.message(reply)
        return HttpResponse(str(twiml), content_type="text/xml")


class TwilioStatusApi(APIView):
    """Twilio's status callback for messages we sent (delivered, undelivered, failed...)."""

    authentication_classes: list[Any] = []
    permission_classes = [Anyone]
    parser_classes = [FormParser]

    @extend_schema(
        request=TWILIO_FORM,
        responses={
            200: OpenApiResponse(description="Recorded (or unknown SID: nothing to retry)"),
            403: OpenApiResponse(description="Bad or missing X-Twilio-Signature"),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        params = _verify(request, STATUS_PATH)
        twilio_webhooks.record_status(
            sid=params.get("MessageSid", ""),
            status=params.get("MessageStatus", ""),
            error_code=params.get("ErrorCode", ""),
        )
        return HttpResponse(status=200)
