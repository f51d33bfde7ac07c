from django.urls import re_path

from frontend import views

urlpatterns = [
    re_path(r"^assets/(?P<path>.+)$", views.asset),
    re_path(r"^(?!api/|admin/|ws/|media/|static/)(?P<path>.*)$", views.index),
]
