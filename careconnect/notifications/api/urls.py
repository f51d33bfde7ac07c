from django.urls import path

from careconnect.notifications.api import views

urlpatterns = [
    path("notifications/", views.InboxApi.as_view()),
    path("notifications/read/", views.MarkReadApi.as_view()),
    path("notifications/preferences/", views.PreferencesApi.as_view()),
    path("notifications/phone/", views.StartPhoneVerificationApi.as_view()),
    path("notifications/phone/confirm/", views.ConfirmPhoneApi.as_view()),
    path("notifications/links/<str:token>/", views.LinkApi.as_view()),
    path("notifications/log/", views.DeliveryLogApi.as_view()),
    path("notifications/twilio/inbound/", views.TwilioInboundApi.as_view()),
    path("notifications/twilio/status/", views.TwilioStatusApi.as_view()),
]
