"""Accounts REST adapters: validate input, make one service or selector call, render."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth import login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careconnect.accounts import selectors, services
from careconnect.accounts.access import resolve_patient_access
from careconnect.accounts.api import serializers as s
from careconnect.accounts.models import User
from careconnect.accounts.permissions import Anyone
from careconnect.api import EmailScopedThrottle, ScopedThrottle, StrictSerializer, rendered
from careconnect.errors import InvalidInputError, NotAuthenticatedError, PermissionDeniedError


def _user(request: Request) -> User:
    if not isinstance(request.user, User):  # IsSignedIn guarantees this on every guarded view
        raise NotAuthenticatedError()
    return request.user


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class PublicApi(APIView):
    """An endpoint for people who are not signed in: no session or token is read (so no CSRF
    check applies), and requests are throttled per client IP under `throttle_scope`."""

    permission_classes = [Anyone]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedThrottle]


# ------------------------------------------------------------------ auth


@method_decorator(ensure_csrf_cookie, name="get")
class CsrfApi(PublicApi):
    throttle_classes = []

    @extend_schema(responses={204: None})
    def get(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterApi(PublicApi):
    throttle_scope = "register"

    @extend_schema(request=s.RegisterInput, responses={201: s.RegisterOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.RegisterInput, request)
        services.register_patient(**data)
        return Response(
            {"email": data["email"].lower(), "email_confirmation_required": True},
            status=status.HTTP_201_CREATED,
        )


class ConfirmEmailApi(PublicApi):
    throttle_scope = "email"

    @extend_schema(request=s.TokenInput, responses={200: s.ConfirmedOutput})
    def post(self, request: Request) -> Response:
        services.confirm_email(token=_valid(s.TokenInput, request)["token"])
        return Response({"email_confirmed": True})


class ResendConfirmationApi(PublicApi):
    throttle_scope = "email"

    @extend_schema(request=s.EmailInput, responses={202: None})
    def post(self, request: Request) -> Response:
        services.resend_confirmation(email=_valid(s.EmailInput, request)["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class LoginApi(APIView):
    permission_classes = [Anyone]
    throttle_classes = [ScopedThrottle, EmailScopedThrottle]
    throttle_scope = "login"

    @extend_schema(request=s.LoginInput, responses={200: s.MeOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.LoginInput, request)
        user = services.authenticate_user(
            request=request._request,
            email=data["email"],
            password=data["password"],
            otp=data.get("otp") or None,
        )
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(s.MeOutput(selectors.me_payload(user)).data)


class LogoutApi(APIView):
    permission_classes = [Anyone]
    allowed_without_mfa = True

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ObtainTokenApi(PublicApi):
    throttle_classes = [ScopedThrottle, EmailScopedThrottle]
    throttle_scope = "login"

    @extend_schema(request=s.LoginInput, responses={200: s.TokenOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.LoginInput, request)
        token = services.obtain_api_token(
            request=request._request,
            email=data["email"],
            password=data["password"],
            otp=data.get("otp") or None,
        )
        # A new token on every call, shown only here: nothing on the way may keep a copy.
        return Response({"token": token}, headers={"Cache-Control": "no-store"})


class MeApi(APIView):
    allowed_without_mfa = True

    @extend_schema(responses={200: s.MeOutput})
    def get(self, request: Request) -> Response:
        return Response(s.MeOutput(selectors.me_payload(_user(request))).data)


class PasswordResetApi(PublicApi):
    throttle_classes = [ScopedThrottle, EmailScopedThrottle]
    throttle_scope = "password_reset"

    @extend_schema(request=s.EmailInput, responses={202: None})
    def post(self, request: Request) -> Response:
        services.request_password_reset(email=_valid(s.EmailInput, request)["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(PublicApi):
    throttle_scope = "password_reset"

    @extend_schema(request=s.PasswordResetConfirmInput, responses={200: s.PasswordResetOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.PasswordResetConfirmInput, request)
        services.reset_password(token=data["token"], password=data["password"])
        return Response({"password_reset": True})


class MfaSetupApi(APIView):
    allowed_without_mfa = True

    @extend_schema(request=None, responses={200: s.MfaSetupOutput})
    def post(self, request: Request) -> Response:
        return Response(services.start_mfa_setup(user=_user(request)))


class MfaEnableApi(APIView):
    allowed_without_mfa = True

    @extend_schema(request=s.OtpInput, responses={200: s.BackupCodesOutput})
    def post(self, request: Request) -> Response:
        codes = services.enable_mfa(user=_user(request), otp=_valid(s.OtpInput, request)["otp"])
        return Response({"backup_codes": codes})


class MfaDisableApi(APIView):
    @extend_schema(request=s.PasswordInput, responses={204: None})
    def post(self, request: Request) -> Response:
        services.disable_mfa(
            user=_user(request), password=_valid(s.PasswordInput, request)["password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------ profile


class ProfileApi(APIView):
    @extend_schema(responses={200: s.ProfileOutput})
    def get(self, request: Request) -> Response:
        user = _user(request)
        access = resolve_patient_access(actor=user, patient_id=user.id, scope="view_records")
        profile = services.read_profile(actor=user, access=access)
        return Response(rendered(s.ProfileOutput, profile))

    @extend_schema(request=s.ProfileInput, responses={200: s.ProfileOutput})
    def patch(self, request: Request) -> Response:
        user = _user(request)
        data = _valid(s.ProfileInput, request)
        access = resolve_patient_access(actor=user, patient_id=user.id, scope="view_records")
        profile = services.update_profile(actor=user, access=access, data=data)
        return Response(rendered(s.ProfileOutput, profile))


class PatientProfileApi(APIView):
    @extend_schema(responses={200: s.ProfileOutput})
    def get(self, request: Request, patient_id: UUID) -> Response:
        user = _user(request)
        access = resolve_patient_access(actor=user, patient_id=patient_id, scope="view_records")
        profile = services.read_profile(actor=user, access=access)
        return Response(rendered(s.ProfileOutput, profile))

    @extend_schema(request=s.ProfileInput, responses={200: s.ProfileOutput})
    def patch(self, request: Request, patient_id: UUID) -> Response:
        user = _user(request)
        data = _valid(s.ProfileInput, request)
        access = resolve_patient_access(actor=user, patient_id=patient_id, scope="view_records")
        if access.clinician or (
            access.acting_for and not services.is_guardian(user, access.patient)
        ):
            raise PermissionDeniedError(
                "Only the patient (or a dependent's guardian) can edit this."
            )
        profile = services.update_profile(actor=user, access=access, data=data)
        return Response(rendered(s.ProfileOutput, profile))


# ------------------------------------------------------------------ family


class GrantListApi(APIView):
    @extend_schema(responses={200: s.GrantOutput(many=True)})
    def get(self, request: Request) -> Response:
        grants = selectors.list_grants_given(patient=_user(request))
        return Response(s.GrantOutput(grants, many=True).data)

    @extend_schema(request=s.GrantInput, responses={201: s.GrantOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.GrantInput, request)
        grant = services.invite_family_member(
            patient=_user(request),
            email=data["email"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
        )
        return Response(s.GrantOutput(grant).data, status=status.HTTP_201_CREATED)


class InvitationListApi(APIView):
    @extend_schema(responses={200: s.GrantOutput(many=True)})
    def get(self, request: Request) -> Response:
        return Response(
            s.GrantOutput(selectors.list_invitations_for(user=_user(request)), many=True).data
        )


class GrantDetailApi(APIView):
    """The invitee looks at an invitation before accepting (only the addressee sees it)."""

    @extend_schema(responses={200: s.GrantOutput})
    def get(self, request: Request, grant_id: UUID) -> Response:
        user = _user(request)
        grant = selectors.get_grant_for_invitee(grant_id=grant_id)
        if user.id not in (grant.patient_id, grant.grantee_id) and (
            not user.email or user.email.lower() != grant.email.lower()
        ):
            raise services.WrongAccountError()
        return Response(s.GrantOutput(grant).data)


class GrantAcceptApi(APIView):
    @extend_schema(request=None, responses={200: s.GrantOutput})
    def post(self, request: Request, grant_id: UUID) -> Response:
        _valid(StrictSerializer, request)
        grant = services.accept_grant(user=_user(request), grant_id=grant_id)
        return Response(s.GrantOutput(grant).data)


class GrantRevokeApi(APIView):
    @extend_schema(request=None, responses={200: s.GrantOutput})
    def post(self, request: Request, grant_id: UUID) -> Response:
        grant = services.revoke_grant(patient=_user(request), grant_id=grant_id)
        return Response(s.GrantOutput(grant).data)


class ActablePatientListApi(APIView):
    @extend_schema(responses={200: s.ActablePatientOutput(many=True)})
    def get(self, request: Request) -> Response:
        grants = selectors.list_actable_patients(user=_user(request))
        return Response(s.ActablePatientOutput(grants, many=True).data)


class DependentListApi(APIView):
    @extend_schema(responses={200: s.DependentOutput(many=True)})
    def get(self, request: Request) -> Response:
        user = _user(request)
        children = [
            services.read_dependent(guardian=user, child=child)
            for child in selectors.list_dependents(guardian=user)
        ]
        return Response(s.DependentOutput(children, many=True).data)

    @extend_schema(request=s.DependentInput, responses={201: s.DependentOutput})
    def post(self, request: Request) -> Response:
        user = _user(request)
        data = _valid(s.DependentInput, request)
        child = services.add_dependent(guardian=user, **data)
        body = {
            "id": child.id,
            "first_name": child.first_name,
            "last_name": child.last_name,
            "date_of_birth": data["date_of_birth"],
        }
        return Response(s.DependentOutput(body).data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------ centers and doctors


class CenterListApi(APIView):
    permission_classes = [Anyone]

    @extend_schema(responses={200: s.CenterOutput(many=True)})
    def get(self, request: Request) -> Response:
        return Response(s.CenterOutput(selectors.list_centers(), many=True).data)


class CenterDetailApi(APIView):
    def get_permissions(self) -> list[Any]:
        return [Anyone()] if self.request.method == "GET" else list(super().get_permissions())

    @extend_schema(responses={200: s.CenterOutput})
    def get(self, request: Request, center_id: UUID) -> Response:
        return Response(s.CenterOutput(selectors.get_center(center_id=center_id)).data)

    @extend_schema(request=s.CenterInput, responses={200: s.CenterOutput})
    def patch(self, request: Request, center_id: UUID) -> Response:
        data = _valid(s.CenterInput, request)
        center = services.update_center(actor=_user(request), center_id=center_id, data=data)
        return Response(s.CenterOutput(center).data)


class CenterStaffApi(APIView):
    @extend_schema(responses={200: s.StaffOutput(many=True)})
    def get(self, request: Request, center_id: UUID) -> Response:
        center = services.require_center_admin(_user(request), center_id)
        return Response(s.StaffOutput(selectors.list_center_staff(center=center), many=True).data)


class CenterInvitationListApi(APIView):
    @extend_schema(responses={200: s.StaffInvitationOutput(many=True)})
    def get(self, request: Request, center_id: UUID) -> Response:
        center = services.require_center_admin(_user(request), center_id)
        invitations = selectors.list_staff_invitations(center=center)
        return Response(s.StaffInvitationOutput(invitations, many=True).data)

    @extend_schema(request=s.StaffInvitationInput, responses={201: s.StaffInvitationOutput})
    def post(self, request: Request, center_id: UUID) -> Response:
        data = _valid(s.StaffInvitationInput, request)
        invitation = services.invite_staff(actor=_user(request), center_id=center_id, **data)
        return Response(s.StaffInvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


class StaffInvitationAcceptApi(PublicApi):
    throttle_scope = "register"

    @extend_schema(request=s.StaffAcceptInput, responses={201: s.MeOutput})
    def post(self, request: Request) -> Response:
        user = services.accept_staff_invitation(**_valid(s.StaffAcceptInput, request))
        return Response(s.MeOutput(selectors.me_payload(user)).data, status=status.HTTP_201_CREATED)


class DoctorProfileApi(APIView):
    @extend_schema(responses={200: s.DoctorProfileOutput})
    def get(self, request: Request) -> Response:
        return Response(
            s.DoctorProfileOutput(selectors.get_doctor_profile(user=_user(request))).data
        )

    @extend_schema(request=s.DoctorProfileInput, responses={200: s.DoctorProfileOutput})
    def patch(self, request: Request) -> Response:
        user = _user(request)
        services.update_doctor_profile(actor=user, data=_valid(s.DoctorProfileInput, request))
        return Response(s.DoctorProfileOutput(selectors.get_doctor_profile(user=user)).data)


class DoctorPhotoApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.PhotoInput}, responses={200: s.DoctorProfileOutput}
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        upload = request.FILES.get("photo")
        if upload is None:
            raise InvalidInputError("Choose a photo to upload.", photo=["This field is required."])
        services.set_doctor_photo(actor=user, upload=upload)
        return Response(s.DoctorProfileOutput(selectors.get_doctor_profile(user=user)).data)


class SpecialtyListApi(APIView):
    permission_classes = [Anyone]

    @extend_schema(responses={200: s.SpecialtyOutput(many=True)})
    def get(self, request: Request) -> Response:
        return Response(s.SpecialtyOutput(selectors.list_specialties(), many=True).data)


class LanguageListApi(APIView):
    permission_classes = [Anyone]

    @extend_schema(responses={200: s.LanguageOutput(many=True)})
    def get(self, request: Request) -> Response:
        languages = [
            {"code": code, "name": name}
            for code, name in sorted(selectors.LANGUAGES.items(), key=lambda item: item[1])
        ]
        return Response(languages)
