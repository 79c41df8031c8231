# Studyhall — the two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
PORT ?= 8000
BOOTSTRAP := .bootstrap
VENV := .venv
UV := $(BOOTSTRAP)/bin/uv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export UV_PYTHON := python3
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: bench run test venv redis lint format typecheck test-fast demo-reset chromium identity-providers screenshots clean

$(UV):
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins; a no-op in well under a second when nothing changed.
# Bytecode is written ahead, for the packages and the project: where PYTHONDONTWRITEBYTECODE
# is set, every process (each server the tests start, each management command) would compile
# Django and the app again, over a second of CPU each time.
venv: $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	$(PY) -m compileall -q -j 0 config studyhall tests bench scripts manage.py >/dev/null

run: venv redis
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	PORT=$(PORT) scripts/serve.sh

# Drops the SQLite database and seeds fresh demo sessions relative to the current time.
demo-reset: venv
	rm -f var/studyhall.sqlite3 var/studyhall.sqlite3-wal var/studyhall.sqlite3-shm
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

# Redis carries the real-time messages between the HTTP and WebSocket servers (scripts/serve.sh
# and the browser tests start a private one on loopback).
redis:
	@command -v redis-server >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The identity providers the single sign-on tests start on loopback: pysaml2's IdP (in the dev
# dependencies) signs with Debian's xmlsec1; the OpenID Connect provider is the npm package
# pinned by package-lock.json.
identity-providers:
	@command -v xmlsec1 >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	@[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --silent

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv
	$(VENV)/bin/mypy config studyhall tests

test: venv redis chromium identity-providers lint typecheck
	scripts/test.sh

# The benchmark (not part of `make test`): seeds its own PostgreSQL database, runs the
# production configuration with Redis, and prints min/median/max of each figure. See bench/.
bench: venv
	$(PY) bench/run.py

# Unit tests on SQLite only, without lint, types or the browser.
test-fast: venv
	$(VENV)/bin/pytest -q -m "not e2e"

# The README's pictures and the accessibility report's 320 px ones, from a fresh demo in
# Debian's Chromium.
screenshots: venv chromium
	PYTHONPATH=. $(PY) scripts/screenshots.py
	STUDYHALL_SCREENSHOTS=1 $(VENV)/bin/pytest -q -p no:xdist tests/e2e/test_narrow.py

clean:
	rm -rf $(VENV) $(BOOTSTRAP) var
