from django.urls import path

from prescriptions.api import views

urlpatterns = [
    path("medications/", views.MedicationListApi.as_view()),
    path("prescriptions/", views.PrescriptionListApi.as_view()),
    path("prescriptions/check/", views.CheckApi.as_view()),
    path("prescriptions/vocabulary/", views.VocabularyApi.as_view()),
    path("prescriptions/verify/", views.VerifyApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/", views.PrescriptionDetailApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/pdf/", views.PrescriptionPdfApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/fhir/", views.PrescriptionFhirApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/cancel/", views.CancelApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/refill/", views.RefillRequestApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/send/", views.SendApi.as_view()),
    path("prescriptions/<uuid:prescription_id>/reminders/", views.RemindersApi.as_view()),
    path("refills/<uuid:refill_id>/approve/", views.ApproveRefillApi.as_view()),
    path("refills/<uuid:refill_id>/decline/", views.DeclineRefillApi.as_view()),
    path("pharmacies/", views.PharmacyListApi.as_view()),
    path("pharmacies/preferred/", views.PreferredPharmacyApi.as_view()),
    path("pharmacy-inbox/<str:token>/", views.PharmacyInboxApi.as_view()),
    path("pharmacy-inbox/<str:token>/pdf/", views.PharmacyInboxPdfApi.as_view()),
    path("pharmacy-inbox/<str:token>/fhir/", views.PharmacyInboxFhirApi.as_view()),
]
