# CareConnect: `make run` serves the embedded default, `make test` runs the whole suite.
# Every target works on a fresh clone (README.md lists what each one does).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

export UV_PYTHON_DOWNLOADS := never
PYTHON_VERSION := 3.11
VENV := .venv
PY := $(VENV)/bin/python
FRONTEND := frontend

# uv: on PATH (and working: a pyenv shim may exist without uv behind it), else ~/.local/bin,
# else as a module of python3. Recursive (=) so it is looked up again once `uv` installed it.
UV = $(shell for c in uv "$(HOME)/.local/bin/uv"; do \
	"$$c" --version >/dev/null 2>&1 && { command -v "$$c"; exit 0; }; done; \
	python3 -m uv --version >/dev/null 2>&1 && echo "python3 -m uv")

FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(wildcard $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig*.json) \
	$(FRONTEND)/package-lock.json

.PHONY: help install uv python frontend run test lint typecheck bench clean schema check-schema

help:
	@echo "make run        install, migrate, load demo data, serve on HOST:PORT (127.0.0.1:8000)"
	@echo "make test       ruff, mypy, frontend test/lint/typecheck/build, pytest (embedded, then"
	@echo "                PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set)"
	@echo "make install    uv sync --frozen (Python $(PYTHON_VERSION)), npm ci, npm run build (when stale)"
	@echo "make lint | typecheck | bench | clean"

install: python frontend

uv:
	@if [ -z "$(UV)" ]; then \
		echo "uv not found: installing it with pip (user site)"; \
		python3 -m pip install --user --quiet uv \
		|| python3 -m pip install --user --quiet --break-system-packages uv \
		|| pip install --quiet uv; \
	fi

python: uv
	@uv="$(UV)"; [ -n "$$uv" ] || { echo "uv is still not on PATH nor in ~/.local/bin" >&2; exit 1; }; \
	$$uv sync --frozen --python $(PYTHON_VERSION)

frontend: $(FRONTEND)/dist/index.html

# npm ci only when node_modules is missing or older than the lock file.
$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $@

# npm run build only when dist is missing or older than a source.
$(FRONTEND)/dist/index.html: $(FRONTEND_SOURCES) $(FRONTEND)/node_modules/.package-lock.json
	cd $(FRONTEND) && npm run build
	@touch $@

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_medications
	$(PY) manage.py seed_demo
	exec bin/serve

# Every step runs even when an earlier one fails; the summary lists what failed.
# pytest's exit 5 ("no tests collected") counts as a pass, loudly. The frontend build is a
# step (not a prerequisite) so a broken build still lets the Python checks run.
test: python $(FRONTEND)/node_modules/.package-lock.json
	@failed=(); \
	step() { \
		local name="$$1"; shift; \
		echo; echo "==> $$name: $$*"; \
		local rc=0; "$$@" || rc=$$?; \
		if [ "$$rc" -eq 5 ] && [[ "$$name" == pytest* ]]; then \
			echo "!!! $$name: NO TESTS COLLECTED (pytest exit 5): counted as a pass"; rc=0; \
		fi; \
		if [ "$$rc" -ne 0 ]; then failed+=("$$name (exit $$rc)"); fi; \
	}; \
	step ruff $(VENV)/bin/ruff check .; \
	step mypy $(VENV)/bin/mypy .; \
	step "migrations up to date" env -u DATABASE_URL -u REDIS_URL \
		$(PY) manage.py makemigrations --check --dry-run; \
	step "API types match the OpenAPI schema" $(MAKE) --no-print-directory check-schema; \
	step "npm test" npm --prefix $(FRONTEND) test; \
	step "npm lint" npm --prefix $(FRONTEND) run lint; \
	step "npm typecheck" npm --prefix $(FRONTEND) run typecheck; \
	step "frontend build" $(MAKE) --no-print-directory frontend; \
	step "pytest (embedded default)" \
		env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(VENV)/bin/pytest; \
	if [ -n "$${DATABASE_URL:-}" ] && [ -n "$${REDIS_URL:-}" ]; then \
		step "pytest (PostgreSQL + Redis)" $(VENV)/bin/pytest -m "not e2e"; \
	else \
		echo; echo "==> pytest (PostgreSQL + Redis): skipped, DATABASE_URL and REDIS_URL are not both set"; \
	fi; \
	echo; \
	if [ $${#failed[@]} -eq 0 ]; then echo "make test: all steps passed"; \
	else printf 'make test: FAILED: %s\n' "$${failed[@]}"; exit 1; fi

# frontend/src/api/schema.d.ts is generated from the server's OpenAPI schema, never edited.
schema: python $(FRONTEND)/node_modules/.package-lock.json
	@mkdir -p var
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py spectacular --format openapi-json \
		--validate --fail-on-warn --file var/openapi.json
	cd $(FRONTEND) && npm run --silent gen:api

check-schema: python $(FRONTEND)/node_modules/.package-lock.json
	@tmp=$$(mktemp -d); \
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py spectacular --format openapi-json \
		--validate --fail-on-warn --file "$$tmp/openapi.json" && \
	(cd $(FRONTEND) && npx --no-install openapi-typescript "$$tmp/openapi.json" \
		-o "$$tmp/schema.d.ts" >/dev/null) && \
	cmp -s "$$tmp/schema.d.ts" $(FRONTEND)/src/api/schema.d.ts \
	|| { echo "frontend/src/api/schema.d.ts is stale: run make schema"; rm -rf "$$tmp"; exit 1; }; \
	rm -rf "$$tmp"; echo "schema.d.ts matches the server's OpenAPI schema"

lint: python $(FRONTEND)/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	npm --prefix $(FRONTEND) run lint

typecheck: python $(FRONTEND)/node_modules/.package-lock.json
	$(VENV)/bin/mypy .
	npm --prefix $(FRONTEND) run typecheck

# Every benchmark is bench/<name>_bench.py; each writes bench/results/<name>.json (embedded
# default). BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 also runs the booking benchmarks
# on PostgreSQL, each in a database of its own (careconnect_bench_<name>: dropped, created,
# dropped again), writing bench/results/<name>-postgresql.json.
BENCH_POSTGRES ?=
BENCH_ON_POSTGRES := booking_contention booking_search
# bench/chat_bench.py (in the loop below) needs PostgreSQL and Redis: it uses BENCH_POSTGRES
# (database careconnect_bench_chat: dropped, created, dropped again) and BENCH_REDIS (a Redis
# database other than 0, flushed, e.g. redis://127.0.0.1:6379/15); without both it writes a
# "skipped" bench/results/chat.json.
BENCH_REDIS ?=
export BENCH_POSTGRES BENCH_REDIS

bench: python
	@mkdir -p bench/results
	@for b in bench/*_bench.py; do \
		echo "==> $$b"; $(PY) -m "bench.$$(basename "$$b" .py)"; \
	done
	@if [ -n "$(BENCH_POSTGRES)" ]; then \
		for b in $(BENCH_ON_POSTGRES); do \
			echo "==> bench/$${b}_bench.py on PostgreSQL"; \
			$(PY) -m "bench.$${b}_bench" --database-url "$(BENCH_POSTGRES)/careconnect_bench_$$b"; \
		done; \
	else \
		echo "(BENCH_POSTGRES not set: booking benchmarks ran on the embedded default only)"; \
	fi

# Build outputs and caches only: var/ (database, local key ring, mail) is kept on purpose,
# deleting the key ring would make the encrypted data in var/ unreadable.
clean:
	rm -rf $(FRONTEND)/dist bench/results .mypy_cache .ruff_cache .pytest_cache test-results
	find . -path ./$(VENV) -prune -o -path ./$(FRONTEND)/node_modules -prune -o \
		-type d -name __pycache__ -exec rm -rf {} +
