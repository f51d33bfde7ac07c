from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from careconnect.errors import error_body


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def bench_bare(request: HttpRequest) -> JsonResponse:
    """The baseline of bench/rest_bench.py: Django's request cycle and nothing of ours."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("careconnect.accounts.api.urls")),
    path("api/", include("booking.api.urls")),
    path("api/", include("booking.payments.api.urls")),
    path("api/", include("chat.api.urls")),
    path("api/", include("consult.api.urls")),
    path("api/", include("careconnect.notifications.api.urls")),
    path("api/", include("prescriptions.api.urls")),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
    path("admin/", admin.site.urls),
    re_path(r"^media/(?P<path>doctors/.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
if settings.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench/bare/", bench_bare))
urlpatterns.append(path("", include("frontend.urls")))
