from django.urls import path

from consult.api import views

urlpatterns = [
    path("consults/waiting/", views.WaitingApi.as_view()),
    path("consults/<uuid:consult_id>/", views.ConsultDetailApi.as_view()),
    path("consults/<uuid:consult_id>/end/", views.EndConsultApi.as_view()),
    path("consults/<uuid:consult_id>/note/", views.NoteApi.as_view()),
]
