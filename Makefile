# make run: web, worker, notifier (the notifications' worker) and beat on SQLite and an embedded broker.  make test: the suite on PostgreSQL and Redis.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Outflow needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

run: export DEBUG = true
run: export OUTFLOW_ALLOW_PRIVATE_TARGETS = true
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap_demo
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile -p 8000

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmark harness (bench/README.md): the whole run takes a few minutes; the smoke run, under a minute.
.PHONY: bench bench-smoke

$(VENV)/.installed-bench: bench/requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

bench-smoke: $(VENV)/.installed-bench
	$(BIN)/python -m bench --smoke
