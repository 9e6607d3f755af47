# Development tasks. `make test` is what CI runs (.ci/run).

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 5000
ARGS   ?=

export PORT

.DEFAULT_GOAL := help
.PHONY: help venv run test lint fmt compose-check clean

help:
	@echo "make venv           create $(VENV) and install requirements-dev.txt"
	@echo "make run            MongoDB + Redis + API (PORT=$(PORT)) + Celery worker and beat"
	@echo "make test           ruff, mypy, then pytest against private MongoDB and Redis"
	@echo "                    (pytest arguments: make test ARGS='-k name -x')"
	@echo "make lint           ruff check, ruff format --check, mypy"
	@echo "make fmt            ruff format and ruff check --fix"
	@echo "make compose-check  validate docker-compose.yml"
	@echo "make clean          remove .data (local database, logs, beat schedule)"

venv: $(STAMP)

# Re-installs only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing requirements-dev.txt into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: venv
	@$(PY) -m scripts.stack run

test: venv
	@echo "== ruff check"
	@$(VENV)/bin/ruff check .
	@echo "== mypy"
	@$(VENV)/bin/mypy
	@echo "== process definitions"
	@$(PY) -m flask --app api definition validate --skip-store
	@echo "== pytest"
	@$(PY) -m scripts.stack test $(ARGS)

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

fmt: venv
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

compose-check:
	@command -v docker-compose >/dev/null || { echo "docker-compose not found (apt-get install docker-compose)"; exit 1; }
	@docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml is valid"

clean:
	rm -rf .data
