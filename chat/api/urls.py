from django.urls import path

from chat.api import views

urlpatterns = [
    path("conversations/", views.ConversationListApi.as_view()),
    path("conversations/<uuid:conversation_id>/messages/", views.MessageListApi.as_view()),
    path("conversations/<uuid:conversation_id>/actions/", views.ActionSubmitApi.as_view()),
]
