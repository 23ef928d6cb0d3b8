# KASCADE Cosmic Quiz — the contract's make targets.
# `make run` and `make test` are all a newcomer needs; every step below runs
# only when its inputs changed (the lock file, the vendor manifest, missing data).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
UV_VERSION := 0.13.9
PYTEST_ARGS ?=

.PHONY: help setup run test test-services test-embedded worker bench loadtest lint clean

help:
	@echo "make run       set up (only what is missing) and serve on http://127.0.0.1:$(PORT)/"
	@echo "make setup     the set-up part of make run"
	@echo "make test      set up, then the whole test suite"
	@echo "make worker    a Celery worker (needs REDIS_URL)"
	@echo "make bench     benchmarks -> .bench/results.json"
	@echo "make loadtest  load and fault run -> .bench/loadtest.json"
	@echo "make lint      ruff"

$(VENV)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip sync -q --python $(PY) requirements.lock
	@touch $@

vendor/.fetched: tools/vendor.json
	$(PYTHON) tools/fetch_vendor.py
	@touch $@

setup: $(VENV)/.installed vendor/.fetched
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py setup_defaults

run: setup
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# With DATABASE_URL/REDIS_URL set (as .ci/run does) the suite runs twice:
# against PostgreSQL + Redis + a real Celery worker, then against the
# embedded defaults (SQLite, in-process tasks). Without them, embedded only.
test: setup
	@if [ -n "$$DATABASE_URL" ] || [ -n "$$REDIS_URL" ]; then \
	  echo "== test suite: PostgreSQL + Redis + Celery worker ($$DATABASE_URL, $$REDIS_URL) =="; \
	  $(PY) -m pytest $(PYTEST_ARGS) || exit $$?; \
	  echo "== test suite: embedded defaults (SQLite, in-process tasks) =="; \
	  env -u DATABASE_URL -u REDIS_URL $(MAKE) --no-print-directory test-embedded || exit $$?; \
	else \
	  echo "== test suite: embedded defaults (SQLite, in-process tasks) =="; \
	  $(PY) -m pytest $(PYTEST_ARGS); \
	fi

test-embedded: setup
	$(PY) -m pytest $(PYTEST_ARGS)

worker: setup
	$(VENV)/bin/celery -A kascade_game worker --loglevel=INFO --concurrency=$${WORKER_CONCURRENCY:-2}

bench: setup
	$(PY) -m benchmarks.run

loadtest: setup
	@if [ -f benchmarks/loadtest.py ]; then $(PY) -m benchmarks.loadtest; \
	else echo "make loadtest: the load and fault run is not built yet (issue 10)" >&2; exit 2; fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf var staticfiles .artifacts .bench vendor $(VENV)
