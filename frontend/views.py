"""The single-page app: its built index.html for every client-side route, and its assets."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe
from django.views.static import serve

_MISSING = """<!doctype html><meta charset="utf-8"><title>CareConnect</title>
<p>The web app has not been built yet. Run <code>make run</code> (it builds it) or
<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>"""


@require_safe
@ensure_csrf_cookie
def index(request: HttpRequest, path: str = "") -> HttpResponseBase:
    index_file = settings.FRONTEND_DIST / "index.html"
    if not index_file.is_file():
        return HttpResponse(_MISSING, status=503)
    response = FileResponse(index_file.open("rb"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def asset(request: HttpRequest, path: str) -> HttpResponseBase:
    if not (settings.FRONTEND_DIST / "assets").is_dir():
        raise Http404
    response = serve(request, path, document_root=str(settings.FRONTEND_DIST / "assets"))
    response["Cache-Control"] = "public, max-age=31536000, immutable"  # hashed file names
    return response
