"""Browser journeys: the real server (bin/serve, embedded default, with its Celery worker)
on a free port with its own var dir, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

pytestmark = pytest.mark.e2e


@dataclass
class Server:
    url: str
    var_dir: Path

    def emails_to(self, address: str) -> list[Any]:
        found = []
        for path in sorted((self.var_dir / "mail").glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        return found

    def wait_for_email(self, address: str, containing: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.emails_to(address)):
                body = message.get_body(preferencelist=("plain",)).get_content()
                if containing in body:
                    return str(body)
            time.sleep(0.2)
        raise AssertionError(f"no email to {address} containing {containing!r} in {timeout}s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(var_dir: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "CRYPTO_KEYS",
            "SECRET_KEY",
            "DJANGO_SETTINGS_MODULE",
            "CELERY_TASK_ALWAYS_EAGER",
        }
    }
    env.update(
        {
            "CARECONNECT_VAR_DIR": str(var_dir),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SERVE_ACCESS_LOG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextmanager
def serve(var_dir: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Migrate and seed a fresh var dir, run bin/serve on a free port until the block ends.

    `extra_env` adds server settings for one module's journeys: such a module overrides the
    `server` fixture with its own server (see test_consult_journeys.py), the others share the
    session's."""
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is missing: build the web app first (make install)")
    port = _free_port()
    env = {**_server_env(var_dir, port), **(extra_env or {})}
    python = sys.executable
    for command in (["migrate", "-v0"], ["seed_demo"]):
        subprocess.run(
            [python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    log = (var_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [python, str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/auth/csrf/", timeout=2) as response:
                if response.status == 204:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()
            raise RuntimeError("server did not start:\n" + (var_dir / "server.log").read_text())
        time.sleep(0.25)
    try:
        yield Server(url=url, var_dir=var_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("var")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Each call opens a fresh browser context (its own cookies: another person)."""
    contexts: list[BrowserContext] = []

    def open_page(width: int = 1280, height: int = 860) -> Page:
        context = browser.new_context(
            base_url=server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    shots = ROOT / "var" / "e2e-screenshots"
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        shots.mkdir(parents=True, exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(
                    path=str(shots / f"{request.node.name}-{index}-{number}.png"), full_page=True
                )
    for context in contexts:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


DEMO_PASSWORD = "demo-pass-2026"


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login page and wait for the home page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def csrf_token(page: Page) -> str:
    """The CSRF cookie of the page's context (for API calls through `page.request`)."""
    page.request.get("/api/auth/csrf/")
    for cookie in page.context.cookies():
        if cookie["name"] == "csrftoken":
            return str(cookie["value"])
    raise AssertionError("no csrftoken cookie")
