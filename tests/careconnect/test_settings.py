"""The production shape refuses to boot with missing secrets or with demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CRYPTO_KEYS"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "careconnect.settings"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_production_refuses_to_boot_without_secrets() -> None:
    out = _run("import django; django.setup()", CARECONNECT_PRODUCTION="1")
    assert out.returncode != 0
    assert "SECRET_KEY" in out.stderr
    assert "CRYPTO_KEYS" in out.stderr


def test_production_refuses_demo_data(tmp_path: Path) -> None:
    env = {
        "CARECONNECT_PRODUCTION": "1",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "CRYPTO_KEYS": "k:" + "A" * 43 + "=",
        "ALLOWED_HOSTS": "example.test",
        "CARECONNECT_VAR_DIR": str(tmp_path),
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
    }
    out = _run(
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('seed_demo')",
        **env,
    )
    assert out.returncode != 0
    assert "Refusing to load demo data" in out.stderr


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgres://u:p%40ss@db:5433/cc?sslmode=require", "postgresql"),
        ("sqlite:///tmp/x.db", "careconnect.sqlite"),
    ],
)
def test_database_url_parsing(url: str, engine: str) -> None:
    from careconnect.env import database_from_url

    parsed = database_from_url(url)
    assert parsed["ENGINE"].endswith(engine)
    if engine == "postgresql":
        assert (
            parsed["USER"],
            parsed["PASSWORD"],
            parsed["HOST"],
            parsed["PORT"],
            parsed["NAME"],
        ) == ("u", "p@ss", "db", "5433", "cc")
        assert parsed["OPTIONS"]["sslmode"] == "require"
        assert parsed["OPTIONS"]["pool"]["max_size"] == 8  # psycopg pool, safe under ASGI
