from django.urls import path

from booking.payments.api import views
from booking.webhooks import StripeWebhookApi

urlpatterns = [
    path("payments/", views.PaymentListApi.as_view()),
    path("payments/bills/", views.BillApi.as_view()),
    path("payments/stripe/webhook/", StripeWebhookApi.as_view()),
    path("payments/<uuid:payment_id>/", views.PaymentDetailApi.as_view()),
    path("payments/<uuid:payment_id>/checkout/", views.CheckoutApi.as_view()),
    path("payments/<uuid:payment_id>/dev/confirm/", views.DevConfirmApi.as_view()),
    path("payments/<uuid:payment_id>/dev/authenticate/", views.DevAuthenticateApi.as_view()),
    path("payments/<uuid:payment_id>/sync/", views.SyncApi.as_view()),
    path("payments/<uuid:payment_id>/refund/", views.RefundApi.as_view()),
    path("payments/<uuid:payment_id>/receipt/", views.ReceiptApi.as_view()),
]
