from django.urls import path

from chat.api import views

urlpatterns = [
    path("conversations/", views.ConversationListApi.as_view()),
    path("conversations/<uuid:conversation_id>/", views.ConversationDetailApi.as_view()),
    path("conversations/<uuid:conversation_id>/messages/", views.MessageListApi.as_view()),
    path(
        "conversations/<uuid:conversation_id>/messages/<uuid:message_id>/",
        views.MessageDetailApi.as_view(),
    ),
    path("conversations/<uuid:conversation_id>/actions/", views.ActionSubmitApi.as_view()),
    path("conversations/<uuid:conversation_id>/attachments/", views.AttachmentUploadApi.as_view()),
    path("attachments/<uuid:attachment_id>/", views.AttachmentDownloadApi.as_view()),
    path("chat/settings/", views.ChatSettingsApi.as_view()),
    path("centers/<uuid:center_id>/chat-settings/", views.CenterChatSettingsApi.as_view()),
]
