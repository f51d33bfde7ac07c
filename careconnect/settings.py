"""CareConnect settings: one module, driven by the environment (DESIGN §8).

With nothing set this is the embedded default: SQLite (WAL), the in-memory channel layer,
Celery on kombu's filesystem transport under var/, email and SMS written to var/, the dev
payment gateway and a generated local key ring. Set DATABASE_URL, REDIS_URL, CRYPTO_KEYS,
STRIPE_*, TWILIO_*, EMAIL_URL for the production shape (README lists every variable).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from careconnect.env import (
    database_from_url,
    env,
    env_bool,
    env_int,
    env_list,
    load_dotenv,
    local_keyring,
    local_secret,
    require_env,
    sqlite_wal,
)

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] etc. be subscripted at runtime

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")
VAR_DIR = Path(env("CARECONNECT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "broker").mkdir(exist_ok=True)

PRODUCTION = env_bool("CARECONNECT_PRODUCTION", default=False)
TESTING = "pytest" in sys.modules
if PRODUCTION:  # refuse to boot on an embedded default
    require_env("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CRYPTO_KEYS", "ALLOWED_HOSTS")
    require_env("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")

SECRET_KEY = env("SECRET_KEY") or local_secret(VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_URL = env("PUBLIC_URL", f"http://{env('HOST', '127.0.0.1')}:{env('PORT', '8000')}").rstrip(
    "/"
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Unused: API tokens are careconnect.accounts.ApiToken (stored hashed). It stays installed
    # because accounts' migration 0005 reads its table to hash the old plaintext tokens; its
    # admin page is unregistered in careconnect/accounts/admin.py.
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "careconnect.crypto",
    "careconnect.audit",
    "careconnect.accounts",
    "careconnect.records",
    "careconnect.notifications",
    "chat",
    "booking",
    "consult",
    "prescriptions",
    "frontend",
]

MIDDLEWARE = [
    "careconnect.middleware.RequestContextMiddleware",
    "careconnect.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "careconnect.urls"
ASGI_APPLICATION = "careconnect.asgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
DATABASES = {"default": database_from_url(DATABASE_URL) if DATABASE_URL else sqlite_wal(VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES: dict[str, Any] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CHANNEL_LAYERS: dict[str, Any] = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same as the
                # layer's blocking BZPOPMIN: an idle receive then raises TimeoutError and
                # daphne closes that socket with 1011 (channels_redis#422). Read longer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "capacity": env_int("CHANNEL_CAPACITY", default=1000),
                # Chat pushes carry message text; Redis may persist it (AOF/RDB): encrypt
                # every layer message (Fernet) so no plaintext PHI reaches its disk.
                "symmetric_encryption_keys": [SECRET_KEY],
            },
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# Celery: a local filesystem broker needs no server on the embedded default.
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = (
    {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL == "filesystem://"
    # Redis: a message a killed worker took but never acknowledged (late ack) comes back
    # after this many seconds. Every task is idempotent, so an ETA task redelivered before
    # its time only runs twice, harmlessly.
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", default=900)}
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Chat (docs/chat-protocol.md): websocket frame size; the per-user frame rate (sustained, and
# the burst a window of BURST/PER_SECOND seconds admits), shared by all of a user's sockets.
CHAT_MAX_FRAME_BYTES = env_int("CHAT_MAX_FRAME_BYTES", default=64 * 1024)
CHAT_RATE_PER_SECOND = env_int("CHAT_RATE_PER_SECOND", default=10)
CHAT_RATE_BURST = env_int("CHAT_RATE_BURST", default=30)
CHAT_EDIT_WINDOW_MINUTES = env_int("CHAT_EDIT_WINDOW_MINUTES", default=15)
# A recipient who has not read a message after this long and has no socket open gets one email.
CHAT_OFFLINE_NOTIFY_MINUTES = env_int("CHAT_OFFLINE_NOTIFY_MINUTES", default=10)
# Presence counters expire this long after a process last refreshed them (a killed process).
CHAT_PRESENCE_TTL_SECONDS = env_int("CHAT_PRESENCE_TTL_SECONDS", default=90)
CHAT_ATTACHMENT_MAX_BYTES = env_int("CHAT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# How long times a doctor offers in chat (booking.offer_slots) stay held for the patient.
BOOKING_OFFER_HOLD_MINUTES = env_int("BOOKING_OFFER_HOLD_MINUTES", default=120)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Correctness never waits for these: an expired hold stops counting by itself. They move
    # a lapsed waitlist offer on to the next person and extend slots to the booking horizon.
    "booking-release-lapsed-holds": {
        "task": "booking.tasks.release_lapsed_holds_task",
        "schedule": 60.0,
    },
    "booking-refresh-slots": {"task": "booking.tasks.refresh_all_slots_task", "schedule": 3600.0},
    # Reminders: a scan every minute for what is due (no long ETA tasks, which a Redis
    # broker can lose or run twice); rows are unique per (recipient, event, channel).
    "booking-send-due-reminders": {
        "task": "booking.tasks.send_due_reminders_task",
        "schedule": 60.0,
    },
    "notifications-release-deferred": {
        "task": "careconnect.notifications.tasks.release_deferred_notifications_task",
        "schedule": 60.0,
    },
    # Medication reminders: a scan every minute for doses due in the last 10 (deduped), so a
    # reminder is at most a minute late and a missed run is caught up by the next ones.
    "prescriptions-medication-reminders": {
        "task": "prescriptions.tasks.send_medication_reminders_task",
        "schedule": 60.0,
    },
    "prescriptions-expire": {
        "task": "prescriptions.tasks.expire_prescriptions_task",
        "schedule": 3600.0,
    },
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:  # argon2 is deliberately slow; the suite checks behaviour, not hash cost
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", default=3600)
EMAIL_CONFIRMATION_MAX_AGE = env_int("EMAIL_CONFIRMATION_MAX_AGE", default=3 * 24 * 3600)
STAFF_INVITATION_MAX_AGE = env_int("STAFF_INVITATION_MAX_AGE", default=7 * 24 * 3600)
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", default=PRODUCTION)
MFA_ISSUER = env("MFA_ISSUER", "CareConnect")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000

# Request bodies: 1 MB for JSON; multipart up to MAX_UPLOAD_BYTES (a 10 MB chat attachment
# and its form fields). Uploads stay in memory (FILE_UPLOAD_MAX_MEMORY_SIZE), also while the
# ASGI handler spools the body: a health document never lands in a plaintext temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", default=CHAT_ATTACHMENT_MAX_BYTES + 256 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
DOCTOR_PHOTO_MAX_BYTES = 2 * 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Sealed chat attachments (never served as static files: only GET /api/attachments/<id>/).
CHAT_ATTACHMENT_DIR = Path(env("CHAT_ATTACHMENT_DIR", str(MEDIA_ROOT / "chat")))
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"

# Encryption at rest: "kid:base64url-key,kid2:..." the first is active (DESIGN §5).
CRYPTO_KEYS = env("CRYPTO_KEYS") or local_keyring(VAR_DIR / "keyring")

# Email: files under var/mail/ on the embedded default (one file per message).
EMAIL_URL = env("EMAIL_URL")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CareConnect <no-reply@careconnect.test>")
if EMAIL_URL:
    from urllib.parse import unquote, urlparse

    _email = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or 25
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_TLS = _email.scheme == "smtp+tls"
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "careconnect.notifications.backends.MailDirBackend"
MAIL_DIR = VAR_DIR / "mail"
SMS_DIR = VAR_DIR / "sms"
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
TWILIO_API_BASE = env("TWILIO_API_BASE", default="")  # unset: Twilio's own hosts (tests: a fake)
TWILIO_TIMEOUT_SECONDS = env_int("TWILIO_TIMEOUT_SECONDS", default=10)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_API_VERSION = "2026-10-28.endive"  # pinned: upgrade deliberately, with the tests
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", default=10)
# Prescriptions sent to a pharmacy's FHIR endpoint: how long to wait for its answer.
PHARMACY_TIMEOUT_SECONDS = env_int("PHARMACY_TIMEOUT_SECONDS", default=10)
# Re-authentication before signing (prescriptions): after this many wrong passwords or codes
# in a row, signing is refused (429) until REAUTH_LOCKOUT_SECONDS after the first of them.
REAUTH_MAX_FAILURES = env_int("REAUTH_MAX_FAILURES", default=5)
REAUTH_LOCKOUT_SECONDS = env_int("REAUTH_LOCKOUT_SECONDS", default=15 * 60)
PAYMENT_GATEWAY = "stripe" if STRIPE_SECRET_KEY else "dev"

# Throttles: per client IP (and per email for login). Rates are settable for load tests.
THROTTLE_RATES = {
    "login": env("THROTTLE_LOGIN", "20/min"),
    "register": env("THROTTLE_REGISTER", "10/min"),
    "password_reset": env("THROTTLE_PASSWORD_RESET", "5/min"),
    "email": env("THROTTLE_EMAIL", "5/min"),
    "login_email": env("THROTTLE_LOGIN_EMAIL", "10/min"),
    "password_reset_email": env("THROTTLE_PASSWORD_RESET_EMAIL", "3/hour"),
    "phone_verify": env("THROTTLE_PHONE_VERIFY", "5/hour"),
    # Prescription verification codes and pharmacy download links (no sign-in: guessable ids).
    "verify": env("THROTTLE_VERIFY", "60/min"),
}

REST_FRAMEWORK: dict[str, Any] = {
    # Token first so an unauthenticated request answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "careconnect.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["careconnect.accounts.permissions.IsSignedIn"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "careconnect.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,  # read per request by api.ScopedThrottle
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CareConnect API",
    "DESCRIPTION": "Chat-first telehealth. See docs/ for the websocket protocols.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": ["patient", "doctor", "nurse", "center_admin", "platform_admin"],
        "StaffRoleEnum": ["doctor", "nurse"],
        "ScopeEnum": ["book", "message", "pay", "view_records"],
        "GrantStatusEnum": ["pending", "active", "revoked", "expired"],
        "InvitationStatusEnum": ["pending", "accepted", "revoked"],
        "LanguageEnum": "careconnect.accounts.selectors.LANGUAGE_CHOICES",
        "ConsultModeEnum": ["online", "in_person"],
        "SlotModeEnum": ["online", "in_person", "both"],
        "ConversationKindEnum": "chat.models.Conversation.Kind",
        "MessageKindEnum": "chat.models.Message.Kind",
        "KindEnum": "booking.models.ScheduleException.Kind",
        "SeverityEnum": ["mild", "moderate", "severe"],
        "FindingSeverityEnum": ["contraindicated", "major", "moderate", "minor"],
        "FindingKindEnum": ["allergy", "duplicate", "interaction"],
    },
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "filters": {"request": {"()": "careconnect.middleware.RequestIdLogFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Benchmarks only: exposes /bench/bare/, a plain Django view used as the latency baseline.
BENCH_ENDPOINTS = env_bool("CARECONNECT_BENCH", default=False) and not PRODUCTION

# Demo data is for the embedded default only (API.md); a production boot refuses it.
DEMO_DATA_ALLOWED = not PRODUCTION

# Video consults (DESIGN §6, consult/). ICE servers for both the browsers and the server's
# aiortc peers: JSON list of RTCIceServer dicts; none by default (never a public STUN).
CONSULT_OPEN_MINUTES_BEFORE = env_int("CONSULT_OPEN_MINUTES_BEFORE", default=10)
CONSULT_CLOSE_MINUTES_AFTER = env_int("CONSULT_CLOSE_MINUTES_AFTER", default=30)
CONSULT_ICE_SERVERS: list[dict[str, Any]] = json.loads(env("CONSULT_ICE_SERVERS", default="[]"))
CONSULT_MAX_ROOMS = env_int("CONSULT_MAX_ROOMS", default=3)  # per media process
CONSULT_VIDEO_WIDTH = env_int("CONSULT_VIDEO_WIDTH", default=640)
CONSULT_VIDEO_HEIGHT = env_int("CONSULT_VIDEO_HEIGHT", default=360)
CONSULT_MAX_FRAME_BYTES = env_int("CONSULT_MAX_FRAME_BYTES", default=32768)  # SDP fits
CONSULT_RATE_PER_SECOND = env_int("CONSULT_RATE_PER_SECOND", default=20)
CONSULT_RATE_BURST = env_int("CONSULT_RATE_BURST", default=60)
CONSULT_POOR_LOSS = 0.08  # fraction of packets lost above which the link is "poor"
CONSULT_POOR_RTT_MS = 600.0
CONSULT_QUALITY_INTERVAL_SECONDS = env_int("CONSULT_QUALITY_INTERVAL_SECONDS", default=5)
# Where the rooms (aiortc peers) live: "inprocess" (the embedded default: the daphne
# process) or "worker" (production: `manage.py run_media_worker` processes reached through
# the channel layer, which then must be Redis). consult/media_backend.py.
CONSULT_MEDIA = env("CONSULT_MEDIA", default="inprocess").strip().lower() or "inprocess"
if CONSULT_MEDIA not in {"inprocess", "worker"}:
    raise ImproperlyConfigured(f"CONSULT_MEDIA is inprocess or worker, not {CONSULT_MEDIA!r}")
# Worker mode: seconds for some worker to take an offer (none: no_capacity), then for it to
# answer (none: media_failed).
CONSULT_MEDIA_CLAIM_SECONDS = env_int("CONSULT_MEDIA_CLAIM_SECONDS", default=3)
CONSULT_MEDIA_TIMEOUT_SECONDS = env_int("CONSULT_MEDIA_TIMEOUT_SECONDS", default=15)
