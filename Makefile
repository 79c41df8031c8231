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

.PHONY: bench run test venv lint format typecheck test-fast demo-reset chromium screenshots clean

$(UV):
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins; a no-op in well under a second when nothing changed.
venv: $(UV)
	$(UV) sync --frozen --quiet

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	PORT=$(PORT) scripts/serve.sh

# Drops the SQLite database and seeds fresh demo sessions relative to the current time.
demo-reset: venv
	rm -f var/studyhall.sqlite3 var/studyhall.sqlite3-wal var/studyhall.sqlite3-shm
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv
	$(VENV)/bin/mypy config studyhall tests

test: venv chromium lint typecheck
	scripts/test.sh

# The benchmark (not part of `make test`): seeds its own PostgreSQL database, runs the
# production configuration with Redis, and prints min/median/max of each figure. See bench/.
bench: venv
	$(PY) bench/run.py

# Unit tests on SQLite only, without lint, types or the browser.
test-fast: venv
	$(VENV)/bin/pytest -q -m "not e2e"

# The README's pictures, from a fresh demo in Debian's Chromium.
screenshots: venv chromium
	PYTHONPATH=. $(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) $(BOOTSTRAP) var
