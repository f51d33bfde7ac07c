from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.layers import channel_layers
from django.core.cache import cache
from django.test import Client

from careconnect.celery import app as celery_app
from careconnect.crypto.services import clear_key_cache
from tests.factories import PASSWORD, make_doctor, make_patient, make_staff


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    # Each async test runs in its own event loop; channels-redis binds its locks to the loop
    # that first used them, so every test gets a new layer object (the Redis data is shared).
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _eager_tasks_and_fresh_cache() -> Iterator[None]:
    # Celery tasks run in-process in tests; throttle counters start from zero in each test.
    celery_app.conf.task_always_eager = True
    cache.clear()
    yield
    cache.clear()
    clear_key_cache()


class Api:
    """A browser-like JSON client: session cookie, CSRF header, and on-commit callbacks run
    (emails are queued on commit), as they would be in a real request."""

    def __init__(self, capture: Callable[..., Any]) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self._capture = capture
        self.client.get("/api/auth/csrf/")

    def _csrf(self) -> str:
        return self.client.cookies["csrftoken"].value

    def request(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"HTTP_X_CSRFTOKEN": self._csrf(), **extra}
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        with self._capture(execute=True):
            call = getattr(self.client, method)
            if method in {"get", "delete"}:
                return call(path, **kwargs)
            return call(
                path, body if body is not None else "", content_type="application/json", **kwargs
            )

    def get(self, path: str, **extra: Any) -> Any:
        return self.request("get", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("post", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("patch", path, body, **extra)

    def put(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("put", path, body, **extra)

    def login(
        self, email: str, password: str = PASSWORD, otp: str | None = None, ip: str | None = None
    ) -> Any:
        body: dict[str, Any] = {"email": email, "password": password}
        if otp is not None:
            body["otp"] = otp
        extra = {"REMOTE_ADDR": ip} if ip else {}
        return self.post("/api/auth/login/", body, **extra)


@pytest.fixture
def api(django_capture_on_commit_callbacks: Callable[..., Any], db: None) -> Api:
    return Api(django_capture_on_commit_callbacks)


@pytest.fixture
def make_api(django_capture_on_commit_callbacks: Callable[..., Any], db: None) -> Callable[[], Api]:
    return lambda: Api(django_capture_on_commit_callbacks)


@pytest.fixture
def patient(db: None) -> Any:
    return make_patient()


@pytest.fixture
def doctor(db: None) -> Any:
    return make_doctor(fee_online="30.00")


@pytest.fixture
def center_admin(db: None) -> Any:
    return make_staff(role="center_admin")


def signed_in(api: Api, user: Any) -> Api:
    response = api.login(user.email)
    assert response.status_code == 200, response.content
    return api
