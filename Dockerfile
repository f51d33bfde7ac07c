# syntax=docker/dockerfile:1
# CareConnect production images (DESIGN §8), used by docker-compose.yml:
#   target app    Django + daphne + Celery (web, worker, beat, migrate services)
#   target proxy  Caddy with deploy/Caddyfile and the collected static files

# --- 1. the single-page app ---------------------------------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- 2. the Python app, installed with uv from uv.lock --------------------------------------
FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH
# DejaVu: printed prescriptions and receipts render names beyond Latin-1 (Łukasz, Zoë).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv>=0.5,<1" \
    && useradd --system --uid 10001 --home-dir /app --no-create-home careconnect
WORKDIR /app
# Dependencies first (cached while only the code changes); no dev tools in the image.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.11
COPY . .
COPY --from=frontend /src/frontend/dist /app/frontend/dist
# Static files into var/static for the proxy image. Throw-away values keep settings from
# generating a local secret or key ring inside the image; runtime values come from .env.
RUN SECRET_KEY=collectstatic-only \
    CRYPTO_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
    python manage.py collectstatic --no-input --verbosity 0 \
    && rm -f var/careconnect.sqlite3* \
    && mkdir -p var/media var/broker \
    && chown -R careconnect:careconnect var
USER careconnect
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["bin/serve"]

# --- 3. the reverse proxy -------------------------------------------------------------------
FROM caddy:2-alpine AS proxy
COPY deploy/Caddyfile /etc/caddy/Caddyfile
COPY --from=app /app/var/static /srv/static
