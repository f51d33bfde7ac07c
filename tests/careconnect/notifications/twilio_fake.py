"""A small fake of Twilio's Messages API on 127.0.0.1: enough of
POST /2010-04-01/Accounts/{sid}/Messages.json for the real twilio SDK to talk to. A `To` of
+15005550001 is refused as Twilio refuses an invalid number (400, code 21211); +15005550500
answers 500 (a transient outage)."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

INVALID_NUMBER = "+15005550001"
OUTAGE_NUMBER = "+15005550500"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
FROM_NUMBER = "+15005550006"
PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class TwilioFake:
    base: str
    requests: list[Recorded] = field(default_factory=list)


def _handler(fake: TwilioFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            fake.requests.append(Recorded(self.path, dict(self.headers.items()), form))
            match = PATH.match(self.path)
            if match is None:
                self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                return
            to = form.get("To", "")
            if to == INVALID_NUMBER:
                self._answer(
                    400,
                    {
                        "code": 21211,
                        "message": f"The 'To' number {to} is not a valid phone number.",
                        "more_info": "https://www.twilio.com/docs/errors/21211",
                        "status": 400,
                    },
                )
                return
            if to == OUTAGE_NUMBER:
                self._answer(500, {"code": 20500, "message": "Internal error", "status": 500})
                return
            sid = "SM" + uuid.uuid4().hex
            self._answer(
                201,
                {
                    "sid": sid,
                    "account_sid": match["sid"],
                    "to": to,
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{match['sid']}/Messages/{sid}.json",
                },
            )

    return Handler


@pytest.fixture
def twilio_fake(settings: Any) -> Iterator[TwilioFake]:
    """Twilio configured and pointed at the fake (TWILIO_API_BASE)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(TwilioFake("")))
    fake = TwilioFake(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_API_BASE = fake.base
    settings.TWILIO_TIMEOUT_SECONDS = 5
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
