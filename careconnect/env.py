"""Environment-driven configuration helpers (stdlib only).

Everything CareConnect needs to know about its deployment comes from the process
environment, optionally seeded from a `.env` file at the project root. Nothing set means the
embedded default (DESIGN §8).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_dotenv(path: Path) -> None:
    """Load KEY=VALUE lines from `path` into os.environ without overriding what is set."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(key, value)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, *, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def require_env(*names: str) -> None:
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            "CARECONNECT_PRODUCTION is on but these are not set: " + ", ".join(missing)
        )


# Django's SQLite backend with a per-process connection pool (careconnect/sqlite/base.py).
SQLITE_ENGINE = "careconnect.sqlite"
SQLITE_ENGINES = {SQLITE_ENGINE, "django.db.backends.sqlite3"}


def database_from_url(url: str) -> dict[str, Any]:
    """Turn postgres://user:pass@host:port/name?opt=v (or sqlite:///path) into DATABASES['default']."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {
            "ENGINE": SQLITE_ENGINE,
            "NAME": unquote(parsed.path) or ":memory:",
            "OPTIONS": {"pool": env_int("DATABASE_POOL_MAX", default=8)},
        }
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")
    options: dict[str, Any] = dict(parse_qsl(parsed.query))
    pool_size = env_int("DATABASE_POOL_MAX", default=8)
    if pool_size > 0:
        # psycopg's pool (Django >= 5.1): connections are reused without CONN_MAX_AGE, which
        # is the safe way to keep them under ASGI; without it every request pays a connect.
        options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "careconnect",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 0,  # under ASGI persistent connections leak across threads (Django docs)
    }


def sqlite_wal(var_dir: Path) -> dict[str, Any]:
    var_dir.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": SQLITE_ENGINE,
        "NAME": str(var_dir / "careconnect.sqlite3"),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "pool": env_int("DATABASE_POOL_MAX", default=8),  # idle connections kept per process
        },
        # Under ASGI each request runs in its own thread context: connections cannot persist
        # per thread, so SQLITE_ENGINE pools them per process instead.
        "CONN_MAX_AGE": 0,
    }


def local_secret(path: Path, *, nbytes: int = 48) -> str:
    """A random secret kept in `path` (0600), generated on first use: embedded default only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
    return path.read_text(encoding="utf-8").strip()


def local_keyring(path: Path) -> str:
    """The embedded default's key ring: one AES-256 key-encryption key, generated once (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"local1:{key}")
    return path.read_text(encoding="utf-8").strip()


_wal_keeper: list[object] = []


def hold_sqlite_wal_open() -> None:
    """Keep one idle connection to the SQLite database open for the life of a server process.

    Django closes its connection after every request (under ASGI each request runs in its own
    thread context, so it cannot keep one). When the last connection to a WAL database closes,
    SQLite checkpoints the WAL and deletes it, so without a keeper nearly every request pays
    for a checkpoint. Does nothing on PostgreSQL."""
    import sqlite3

    from django.conf import settings

    database = settings.DATABASES["default"]
    if _wal_keeper or database["ENGINE"] not in SQLITE_ENGINES:
        return
    keeper = sqlite3.connect(str(database["NAME"]), check_same_thread=False)
    keeper.execute("PRAGMA journal_mode=WAL").fetchall()
    _wal_keeper.append(keeper)
