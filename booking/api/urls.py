from django.urls import path

from booking.api import views

urlpatterns = [
    path("doctors/", views.DoctorSearchApi.as_view()),
    path("doctors/<uuid:doctor_id>/", views.DoctorDetailApi.as_view()),
    path("doctors/<uuid:doctor_id>/slots/", views.DoctorSlotsApi.as_view()),
    path("appointments/", views.AppointmentListApi.as_view()),
    path("appointments/unconfirmed/", views.UnconfirmedAppointmentListApi.as_view()),
    path("appointments/<uuid:appointment_id>/", views.AppointmentDetailApi.as_view()),
    path("appointments/<uuid:appointment_id>/cancel/", views.CancelAppointmentApi.as_view()),
    path(
        "appointments/<uuid:appointment_id>/reschedule/", views.RescheduleAppointmentApi.as_view()
    ),
    path("appointments/<uuid:appointment_id>/confirm/", views.ConfirmAppointmentApi.as_view()),
    path("appointments/<uuid:appointment_id>/complete/", views.CompleteAppointmentApi.as_view()),
    path("appointments/<uuid:appointment_id>/no-show/", views.NoShowAppointmentApi.as_view()),
    path("appointments/<uuid:appointment_id>/ics/", views.AppointmentIcsApi.as_view()),
    path("appointments/<uuid:appointment_id>/review/", views.ReviewApi.as_view()),
    path("schedules/", views.RuleListApi.as_view()),
    path("schedules/preview/", views.RulePreviewApi.as_view()),
    path("schedules/conflicts/", views.ConflictListApi.as_view()),
    path("schedules/<uuid:rule_id>/", views.RuleDetailApi.as_view()),
    path("schedule-exceptions/", views.ExceptionListApi.as_view()),
    path("schedule-exceptions/<uuid:exception_id>/", views.ExceptionDetailApi.as_view()),
    path("centers/<uuid:center_id>/booking-policy/", views.BookingPolicyApi.as_view()),
    path("doctor/week/", views.DoctorWeekApi.as_view()),
    path("doctor/patients/", views.DoctorPatientListApi.as_view()),
    path("waitlist/", views.WaitlistApi.as_view()),
    path("waitlist/<uuid:entry_id>/leave/", views.LeaveWaitlistApi.as_view()),
]
