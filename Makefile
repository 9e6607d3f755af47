# Development tasks. `make test` is what CI runs (.ci/run).

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 5000
ARGS   ?=
BENCH_ARGS ?=

export PORT

.DEFAULT_GOAL := help
.PHONY: help venv lock run test lint fmt compose-check clean bench bench-quick fuzz chaos assets screenshots

help:
	@echo "make venv           create $(VENV) and install requirements-dev.txt"
	@echo "make lock           recompile requirements*.txt (pins and hashes) from *.in"
	@echo "make run            MongoDB + Redis + API (PORT=$(PORT)) + Celery worker and beat"
	@echo "make test           ruff check and format --check, mypy, then pytest against"
	@echo "                    private MongoDB and Redis"
	@echo "                    (pytest arguments: make test ARGS='-k name -x')"
	@echo "make fuzz           the long OpenAPI fuzz run (schemathesis, 5,000+ cases) against"
	@echo "                    private MongoDB and Redis; FUZZ_EXAMPLES=N per operation"
	@echo "make chaos          fault injection at full size (Redis down 30 s, MongoDB down,"
	@echo "                    500 processes under worker kills, API kills, 100 conflicting"
	@echo "                    updates), about 5 minutes; make test runs a short version"
	@echo "make lint           ruff check, ruff format --check, mypy"
	@echo "make fmt            ruff format and ruff check --fix"
	@echo "make bench          benchmarks against same-run baselines, 10,000 and 1,000,000"
	@echo "                    stored processes, 10-minute soak (about 40 minutes;"
	@echo "                    BENCH_ARGS='--sizes 10000,100000' for a shorter scale run)"
	@echo "make bench-quick    the same, reduced (about 2 minutes)"
	@echo "make compose-check  validate docker-compose.yml, the Grafana dashboard and the alert"
	@echo "                    rules (promtool, where installed)"
	@echo "make assets         rebuild the officer pages' CSS and JS from ui/assets (needs Node)"
	@echo "make screenshots    redraw docs/screenshots/ from the officer pages (needs Chromium)"
	@echo "make clean          remove .data (local database, logs, beat schedule)"

venv: $(STAMP)

# Every dependency is pinned with its hashes (requirements*.txt, compiled from *.in by
# `make lock`): a fresh machine installs exactly what CI tested.
LOCK := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

lock:  # needs pip-tools in .venv (requirements-dev.txt has it)
	@$(LOCK) -o requirements.txt requirements.in
	@$(LOCK) -o requirements-dev.txt requirements-dev.in
	@echo "requirements.txt and requirements-dev.txt compiled; commit them with the .in files"

# Re-installs only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { \
	  command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (sudo apt-get install python3.11), or make PYTHON=/path/to/python3.11"; exit 1; }; \
	  $(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { echo "$(PYTHON) cannot create virtual environments: sudo apt-get install python3.11-venv"; exit 1; }; \
	  echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing requirements-dev.txt into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	@touch $@

run: venv
	@$(PY) -m scripts.stack run

test: venv
	@echo "== ruff check, ruff format --check"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@echo "== mypy"
	@$(VENV)/bin/mypy
	@echo "== process definitions"
	@$(PY) -m flask --app api definition validate --skip-store
	@echo "== pytest"
	@command -v chromium >/dev/null || echo "== browser tests (tests/ui/browser) will be SKIPPED: Chromium is not installed (apt-get install chromium)"
	@$(PY) -m scripts.stack test $(ARGS)

# The short fuzz run is part of `make test`; this is the long one (tests/fuzz, marker fuzz_full).
fuzz: venv
	@$(PY) -m scripts.stack test tests/fuzz -m fuzz_full $(ARGS)

# The short fault-injection run is part of `make test`; this one uses the full sizes. Each test
# starts its own MongoDB, Redis, API, worker and beat (tests/chaos/harness.py).
chaos: venv
	@CHAOS_SIZE=full $(PY) -m scripts.stack test tests/chaos -m slow $(ARGS)

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

fmt: venv
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

# Start their own servers on free ports with throwaway data; results in .data/bench/.
bench: venv
	@$(PY) -m bench $(BENCH_ARGS)

bench-quick: venv
	@$(PY) -m bench --quick $(BENCH_ARGS)

# The outputs are committed: running, testing and packaging need no Node.
assets:
	@command -v npm >/dev/null || { echo "npm not found (apt-get install nodejs npm)"; exit 1; }
	@ui/assets/build.sh

# The browser walks save their main pages to docs/screenshots/ (README links them).
screenshots: venv
	@command -v chromium >/dev/null || { echo "Chromium not found (apt-get install chromium)"; exit 1; }
	@UI_SCREENSHOTS=1 $(PY) -m scripts.stack test tests/ui/browser -q

compose-check:
	@command -v docker-compose >/dev/null || { echo "docker-compose not found (apt-get install docker-compose)"; exit 1; }
	@# With the example's placeholders: without JWT_SECRET and SECRET_KEY the file is refused.
	@docker-compose --env-file .env.example -f docker-compose.yml config -q && echo "docker-compose.yml is valid"
	@python3 -m json.tool deploy/grafana/dashboards/processes.json > /dev/null && echo "the Grafana dashboard is valid JSON"
	@# promtool comes with Debian's prometheus package; without it the rules are checked by the tests only.
	@if command -v promtool >/dev/null; then \
	  promtool check rules deploy/prometheus/alerts.yml && promtool test rules deploy/prometheus/alerts.test.yml; \
	else echo "promtool not found (apt-get install prometheus): alert rules not checked here"; fi

clean:
	rm -rf .data
