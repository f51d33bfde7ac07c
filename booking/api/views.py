"""Booking REST adapters: validate input, make one service or selector call, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import calendar, reminders, selectors, services
from booking.api import serializers as s
from booking.models import Appointment, BookingPolicy, Review
from careconnect.accounts.access import resolve_patient_access
from careconnect.accounts.models import DoctorProfile, User
from careconnect.accounts.permissions import Anyone
from careconnect.api import request_user as _user
from careconnect.api import validated as _valid
from careconnect.errors import InvalidInputError, NotFoundError

MAX_SLOT_RANGE = timedelta(days=62)


def _render_appointments(
    actor: User, appointments: list[Appointment], *, reasons: dict[Any, str] | None = None
) -> Any:
    """AppointmentOutput for a list, with reasons decrypted (and audited) once for the list."""
    if reasons is None:
        reasons = services.read_reasons(actor=actor, appointments=appointments)
    centers = {a.doctor.center_id for a in appointments}
    notice = {
        p.center_id: p.cancellation_notice_hours
        for p in BookingPolicy.objects.filter(center_id__in=centers)
    }
    pairs = {(a.patient_id, a.doctor_id) for a in appointments if a.status == "completed"}
    reviewed = (
        set(
            Review.objects.filter(
                patient_id__in={p for p, _ in pairs}, doctor_id__in={d for _, d in pairs}
            ).values_list("patient_id", "doctor_id")
        )
        if pairs
        else set()
    )
    context = {"reasons": reasons, "notice_hours": notice, "reviewed_doctors": reviewed}
    return s.AppointmentOutput(appointments, many=True, context=context).data


def _render_appointment(actor: User, appointment: Appointment, reason: str | None = None) -> Any:
    reasons = {appointment.id: reason} if reason is not None else None
    return _render_appointments(actor, [appointment], reasons=reasons)[0]


def _managed_doctor(actor: User, doctor_id: UUID | None) -> DoctorProfile:
    """The doctor a schedule request is about: the one named, or the caller themselves."""
    if doctor_id is None:
        own = selectors.doctor_of(actor)
        if own is None:
            raise InvalidInputError(doctor=["Choose a doctor."])
        return own
    doctor = selectors.get_doctor(doctor_id=doctor_id)
    if not selectors.is_center_staff(actor, doctor.center_id):
        raise NotFoundError()
    return doctor


def _schedule_change(changes: services.SlotChanges, actor: User, **objects: Any) -> dict[str, Any]:
    return {
        **objects,
        "added": changes.added,
        "removed": changes.removed,
        "conflicts": _render_appointments(actor, changes.conflicts),
    }


# ------------------------------------------------------------------ directory


class DoctorSearchApi(APIView):
    permission_classes = [Anyone]

    @extend_schema(
        operation_id="doctors_list",
        parameters=[s.DoctorSearchInput],
        responses={200: s.DoctorPageOutput},
    )
    def get(self, request: Request) -> Response:
        data = _valid(s.DoctorSearchInput, request.query_params)
        search = selectors.DoctorSearch(
            specialty=data.get("specialty"),
            city=data.get("city"),
            near=data.get("near"),
            radius_km=data["radius_km"],
            max_fee=data.get("max_fee"),
            mode=data.get("mode"),
            language=data.get("language"),
            available_before=data.get("available_before"),
            name=data.get("q"),
            sort=data["sort"],
            limit=data["limit"],
            offset=data["offset"],
        )
        count, doctors = selectors.search_doctors(search)
        return Response({"count": count, "results": s.DoctorCardOutput(doctors, many=True).data})


class DoctorDetailApi(APIView):
    permission_classes = [Anyone]

    @extend_schema(responses={200: s.DoctorDetailOutput})
    def get(self, request: Request, doctor_id: UUID) -> Response:
        doctor, reviews = selectors.get_doctor_detail(doctor_id=doctor_id)
        return Response(s.DoctorDetailOutput(doctor, context={"reviews": reviews}).data)


class DoctorSlotsApi(APIView):
    permission_classes = [Anyone]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME),
            OpenApiParameter("to", OpenApiTypes.DATETIME),
            OpenApiParameter("mode", str, enum=s.MODE_CHOICES),
        ],
        responses={200: s.SlotOutput(many=True)},
    )
    def get(self, request: Request, doctor_id: UUID) -> Response:
        query = request.query_params
        data = _valid(
            s.SlotQueryInput,
            {
                key: value
                for key, value in {
                    "start": query.get("from"),
                    "end": query.get("to"),
                    "mode": query.get("mode"),
                }.items()
                if value
            },
        )
        start = data.get("start") or timezone.now()
        end = data.get("end") or start + timedelta(days=7)
        if end <= start:
            raise InvalidInputError(to=["`to` must be after `from`."])
        if end - start > MAX_SLOT_RANGE:
            raise InvalidInputError(to=["Ask for at most 62 days at a time."])
        doctor = selectors.get_doctor(doctor_id=doctor_id)
        viewer = request.user if isinstance(request.user, User) else None
        slots = selectors.list_doctor_slots(
            doctor_id=doctor.id, start=start, end=end, mode=data.get("mode"), viewer=viewer
        )
        return Response(s.SlotOutput(slots, many=True).data)


# ------------------------------------------------------------------ appointments


class AppointmentListApi(APIView):
    @extend_schema(
        parameters=[s.AppointmentListInput], responses={200: s.AppointmentOutput(many=True)}
    )
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.AppointmentListInput, request.query_params)
        if data.get("patient"):
            access = resolve_patient_access(actor=actor, patient_id=data["patient"], scope="book")
            appointments = selectors.appointments_for_patient(patient=access.patient)
        else:
            doctor = selectors.doctor_of(actor)
            appointments = (
                selectors.appointments_for_doctor(doctor=doctor)
                if doctor is not None
                else selectors.appointments_for_patient(patient=actor)
            )
        rows = list(
            selectors.with_related(selectors.split_by_time(appointments, when=data["when"]))[:200]
        )
        return Response(_render_appointments(actor, rows))

    @extend_schema(request=s.BookInput, responses={201: s.AppointmentOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.BookInput, request.data)
        appointment = services.book_slot(
            actor=actor,
            slot_id=data["slot"],
            mode=data["mode"],
            patient_id=data.get("patient"),
            new_patient=data.get("new_patient"),
            reason=data.get("reason", ""),
            doctor_id=data.get("doctor"),
        )
        appointment = selectors.get_appointment(appointment_id=appointment.id)
        return Response(
            _render_appointment(actor, appointment, data.get("reason", "")),
            status=status.HTTP_201_CREATED,
        )


class UnconfirmedAppointmentListApi(APIView):
    """Staff: upcoming appointments at their centers still unconfirmed at escalation time."""

    @extend_schema(
        operation_id="appointments_unconfirmed_list",
        responses={200: s.AppointmentOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        actor = _user(request)
        return Response(_render_appointments(actor, reminders.unconfirmed_for(actor=actor)))


class AppointmentDetailApi(APIView):
    @extend_schema(responses={200: s.AppointmentOutput})
    def get(self, request: Request, appointment_id: UUID) -> Response:
        actor = _user(request)
        appointment, reason = services.read_appointment(actor=actor, appointment_id=appointment_id)
        return Response(_render_appointment(actor, appointment, reason))


class _AppointmentActionApi(APIView):
    """POST with an empty body → the appointment after a state change."""

    def change(self, actor: User, appointment_id: UUID, data: dict[str, Any]) -> Appointment:
        raise NotImplementedError

    input_serializer: type[Any] = s.EmptyInput

    def post(self, request: Request, appointment_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(self.input_serializer, request.data or {})
        appointment = self.change(actor, appointment_id, data)
        return Response(
            _render_appointment(actor, selectors.get_appointment(appointment_id=appointment.id))
        )


@extend_schema(request=s.EmptyInput, responses={200: s.AppointmentOutput})
class CancelAppointmentApi(_AppointmentActionApi):
    def change(self, actor: User, appointment_id: UUID, data: dict[str, Any]) -> Appointment:
        return services.cancel_appointment(actor=actor, appointment_id=appointment_id)


@extend_schema(request=s.RescheduleInput, responses={200: s.AppointmentOutput})
class RescheduleAppointmentApi(_AppointmentActionApi):
    input_serializer = s.RescheduleInput

    def change(self, actor: User, appointment_id: UUID, data: dict[str, Any]) -> Appointment:
        return services.reschedule_appointment(
            actor=actor, appointment_id=appointment_id, slot_id=data["slot"], mode=data.get("mode")
        )


@extend_schema(request=s.EmptyInput, responses={200: s.AppointmentOutput})
class ConfirmAppointmentApi(_AppointmentActionApi):
    def change(self, actor: User, appointment_id: UUID, data: dict[str, Any]) -> Appointment:
        return services.confirm_appointment(actor=actor, appointment_id=appointment_id)


@extend_schema(request=s.EmptyInput, responses={200: s.AppointmentOutput})
class CompleteAppointmentApi(_AppointmentActionApi):
    def change(self, actor: User, appointment_id: UUID, data: dict[str, Any]) -> Appointment:
        return services.complete_appointment(actor=actor, appointment_id=appointment_id)


@extend_schema(request=s.EmptyInput, responses={200: s.AppointmentOutput})
class NoShowAppointmentApi(_AppointmentActionApi):
    def change(self, actor: User, appointment_id: UUID, data: dict[str, Any]) -> Appointment:
        return services.mark_no_show(actor=actor, appointment_id=appointment_id)


class AppointmentIcsApi(APIView):
    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR})
    def get(self, request: Request, appointment_id: UUID) -> HttpResponse:
        actor = _user(request)
        appointment, _ = services.read_appointment(actor=actor, appointment_id=appointment_id)
        body = calendar.appointment_ics(appointment)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="careconnect-appointment.ics"'
        response["Cache-Control"] = "no-store"
        return response


class ReviewApi(APIView):
    @extend_schema(request=s.ReviewInput, responses={201: s.ReviewOutput})
    def post(self, request: Request, appointment_id: UUID) -> Response:
        data = _valid(s.ReviewInput, request.data)
        review = services.write_review(
            actor=_user(request),
            appointment_id=appointment_id,
            rating=data["rating"],
            text=data.get("text", ""),
        )
        return Response(s.ReviewOutput(review).data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------ schedules


class RuleListApi(APIView):
    @extend_schema(parameters=[s.DoctorQueryInput], responses={200: s.RuleOutput(many=True)})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.DoctorQueryInput, request.query_params)
        doctor = _managed_doctor(actor, data.get("doctor"))
        return Response(s.RuleOutput(selectors.list_rules(doctor=doctor), many=True).data)

    @extend_schema(request=s.RuleInput, responses={201: s.ScheduleChangeOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.RuleInput, request.data)
        doctor_id = data.pop("doctor")
        rule, changes = services.create_rule(actor=actor, doctor_id=doctor_id, data=data)
        body = _schedule_change(changes, actor, rule=s.RuleOutput(rule).data)
        return Response(body, status=status.HTTP_201_CREATED)


class RulePreviewApi(APIView):
    @extend_schema(request=s.PreviewInput, responses={200: s.PreviewOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PreviewInput, request.data)
        doctor_id, replaces = data.pop("doctor"), data.pop("replaces", None)
        preview = services.preview_rule(
            actor=actor, doctor_id=doctor_id, data=data, replaces=replaces
        )
        return Response(
            {
                "slots": s.PlannedSlotOutput(preview["slots"], many=True).data,
                "count": preview["count"],
                "conflicts": _render_appointments(actor, preview["conflicts"]),
            }
        )


class RuleDetailApi(APIView):
    @extend_schema(responses={200: s.RuleOutput})
    def get(self, request: Request, rule_id: UUID) -> Response:
        actor = _user(request)
        rules = list(selectors.list_rules_by_id(rule_id=rule_id))
        if not rules or not selectors.is_center_staff(actor, rules[0].doctor.center_id):
            raise NotFoundError()
        return Response(s.RuleOutput(rules[0]).data)

    @extend_schema(request=s.RulePatchInput, responses={200: s.ScheduleChangeOutput})
    def patch(self, request: Request, rule_id: UUID) -> Response:
        actor = _user(request)
        data = _valid(s.RulePatchInput, request.data)
        rule, changes = services.update_rule(actor=actor, rule_id=rule_id, data=data)
        return Response(_schedule_change(changes, actor, rule=s.RuleOutput(rule).data))

    @extend_schema(responses={200: s.ScheduleChangeOutput})
    def delete(self, request: Request, rule_id: UUID) -> Response:
        actor = _user(request)
        changes = services.delete_rule(actor=actor, rule_id=rule_id)
        return Response(_schedule_change(changes, actor, rule=None))


class ConflictListApi(APIView):
    @extend_schema(parameters=[s.DoctorQueryInput], responses={200: s.AppointmentOutput(many=True)})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.DoctorQueryInput, request.query_params)
        doctor = _managed_doctor(actor, data.get("doctor"))
        return Response(_render_appointments(actor, list(selectors.list_conflicts(doctor=doctor))))


class ExceptionListApi(APIView):
    @extend_schema(parameters=[s.DoctorQueryInput], responses={200: s.ExceptionOutput(many=True)})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.DoctorQueryInput, request.query_params)
        doctor = _managed_doctor(actor, data.get("doctor"))
        exceptions = selectors.list_exceptions(doctor=doctor, end=None, start=timezone.now())
        return Response(s.ExceptionOutput(exceptions, many=True).data)

    @extend_schema(request=s.ExceptionInput, responses={201: s.ScheduleChangeOutput})
    def post(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.ExceptionInput, request.data)
        doctor_id = data.pop("doctor")
        exception, changes = services.create_exception(actor=actor, doctor_id=doctor_id, data=data)
        body = _schedule_change(changes, actor, exception=s.ExceptionOutput(exception).data)
        return Response(body, status=status.HTTP_201_CREATED)


class ExceptionDetailApi(APIView):
    @extend_schema(responses={200: s.ScheduleChangeOutput})
    def delete(self, request: Request, exception_id: UUID) -> Response:
        actor = _user(request)
        changes = services.delete_exception(actor=actor, exception_id=exception_id)
        return Response(_schedule_change(changes, actor, exception=None))


class BookingPolicyApi(APIView):
    @extend_schema(responses={200: s.PolicyOutput})
    def get(self, request: Request, center_id: UUID) -> Response:
        actor = _user(request)
        if not selectors.is_center_staff(actor, center_id):
            raise NotFoundError()
        return Response(s.PolicyOutput(selectors.policy_for(center_id)).data)

    @extend_schema(request=s.PolicyInput, responses={200: s.PolicyOutput})
    def patch(self, request: Request, center_id: UUID) -> Response:
        data = _valid(s.PolicyInput, request.data)
        policy = services.update_booking_policy(
            actor=_user(request), center_id=center_id, data=data
        )
        return Response(s.PolicyOutput(policy).data)


class DoctorWeekApi(APIView):
    @extend_schema(parameters=[s.WeekInput], responses={200: s.WeekOutput})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.WeekInput, request.query_params)
        doctor = _managed_doctor(actor, data.get("doctor"))
        week = selectors.doctor_week(doctor=doctor, start_day=data.get("start"))
        return Response(
            {
                "doctor": s.DoctorLiteOutput(doctor).data,
                "timezone": week["timezone"],
                "start": week["start"],
                "end": week["end"],
                "appointments": _render_appointments(actor, week["appointments"]),
                "free_slots": s.SlotOutput(week["free_slots"], many=True).data,
                "exceptions": s.ExceptionOutput(week["exceptions"], many=True).data,
            }
        )


class DoctorPatientListApi(APIView):
    @extend_schema(
        parameters=[s.PatientQueryInput], responses={200: s.AppointmentPersonOutput(many=True)}
    )
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.PatientQueryInput, request.query_params)
        doctor = _managed_doctor(actor, data.get("doctor"))
        patients = selectors.list_doctor_patients(doctor=doctor, query=data["q"])
        return Response(s.AppointmentPersonOutput(patients, many=True).data)


# ------------------------------------------------------------------ waitlist


class WaitlistApi(APIView):
    @extend_schema(parameters=[s.WaitlistListInput], responses={200: s.WaitlistOutput(many=True)})
    def get(self, request: Request) -> Response:
        actor = _user(request)
        data = _valid(s.WaitlistListInput, request.query_params)
        if data.get("patient"):
            access = resolve_patient_access(actor=actor, patient_id=data["patient"], scope="book")
            patients = [access.patient]
        else:
            patients = selectors.patients_actor_books_for(actor=actor)
        return Response(
            s.WaitlistOutput(selectors.list_waitlist(patients=patients), many=True).data
        )

    @extend_schema(request=s.WaitlistInput, responses={201: s.WaitlistOutput})
    def post(self, request: Request) -> Response:
        data = _valid(s.WaitlistInput, request.data)
        entry = services.join_waitlist(
            actor=_user(request),
            doctor_id=data["doctor"],
            earliest=data["earliest"],
            latest=data["latest"],
            mode=data["mode"],
            patient_id=data.get("patient"),
        )
        return Response(s.WaitlistOutput(entry).data, status=status.HTTP_201_CREATED)


class LeaveWaitlistApi(APIView):
    @extend_schema(request=s.EmptyInput, responses={200: s.WaitlistOutput})
    def post(self, request: Request, entry_id: UUID) -> Response:
        _valid(s.EmptyInput, request.data or {})
        entry = services.leave_waitlist(actor=_user(request), entry_id=entry_id)
        return Response(s.WaitlistOutput(entry).data)
