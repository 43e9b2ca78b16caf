# Cotton ERP. `make run` and `make test` need only Python 3.11 and make: without DATABASE_URL /
# REDIS_URL, scripts/devenv.py starts an embedded PostgreSQL and Redis under .data/ (ARCHITECTURE.md 5).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEVENV := $(PY) scripts/devenv.py
DATA_DIR := $(or $(COTTON_DATA_DIR),.data)

# The stamp's name carries a checksum of both requirement files, so editing either reinstalls.
REQUIREMENTS := requirements.txt requirements-dev.txt
VENV_STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) 2>/dev/null | cksum | cut -d' ' -f1)

PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=

.PHONY: help venv run test check bench services-up services-down services-status clean-data

help:
	@echo "make run            the whole system with demo data (web + websockets, worker, beat) on :8000"
	@echo "make test           the test suite in parallel (PYTEST_ARGS=..., PYTEST_WORKERS=auto|N|0)"
	@echo "make check          ruff, ruff format, mypy, import layers, migrations, OpenAPI schema"
	@echo "make bench          benchmarks; JSON in bench/results/ (BENCH_ARGS=\"--only load\", BENCH_LOAD_SECONDS=20)"
	@echo "make services-up    start the embedded PostgreSQL and Redis (until services-down)"
	@echo "make services-down  stop them"
	@echo "make clean-data     stop them and delete $(DATA_DIR)/ (database, Redis snapshot, secret key)"
	@echo "make venv           create .venv and install the pinned requirements"

venv: $(VENV_STAMP)

$(VENV_STAMP):
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

run: export DJANGO_DEBUG ?= 1
run: venv
	$(DEVENV) exec -- bash scripts/run.sh

test: export COTTON_TESTING := 1
test: venv
	$(DEVENV) exec -- $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

check: venv
	$(DEVENV) exec -- bash scripts/check.sh

# The load test's locust lives in its own pins, installed here only (make run/test never need it).
bench: venv
	$(PY) -m pip install -q -r requirements-bench.txt
	$(DEVENV) exec -- $(PY) bench/run.py $(BENCH_ARGS)

services-up: venv
	$(DEVENV) up

services-down: venv
	$(DEVENV) down

services-status: venv
	$(DEVENV) status

clean-data:
	@if [ -x $(PY) ]; then $(DEVENV) down; fi
	rm -rf -- "$(DATA_DIR)"
