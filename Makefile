# Two commands: `make run` (set up, migrate, seed the demo, serve) and `make test` (set up, run the whole suite).
# `make lint` checks style, types and layers (CI runs it before the tests); `make format` rewrites what ruff can fix.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev migrate demo serve worker bench lighthouse lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# axe-core for the accessibility browser tests, at the exact version in its package-lock.json.
AXE_DIR := tests/browser/axe
$(AXE_DIR)/node_modules/.installed: $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	npm ci --prefix $(AXE_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The Nu Html Checker (vnu.jar, run with the system's Java) for tests/integration/test_valid_html.py, pinned the same way.
VNU_DIR := tests/html
$(VNU_DIR)/node_modules/.installed: $(VNU_DIR)/package.json $(VNU_DIR)/package-lock.json
	npm ci --prefix $(VNU_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Lighthouse 12.2.3 (13 needs Node 22) for bench/lighthouse.py, run with the system's Chromium; `make lighthouse`
# installs it and measures every guest page.
LIGHTHOUSE_DIR := bench/lighthouse
$(LIGHTHOUSE_DIR)/node_modules/.installed: $(LIGHTHOUSE_DIR)/package.json $(LIGHTHOUSE_DIR)/package-lock.json
	npm ci --prefix $(LIGHTHOUSE_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev $(AXE_DIR)/node_modules/.installed $(VNU_DIR)/node_modules/.installed

migrate: install
	$(BIN)/events migrate

demo: migrate
	$(BIN)/events demo

run: demo
	$(BIN)/events serve --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/events worker

# The suite runs on a worker per CPU and one more (pytest-xdist; tests/conftest.py caps their number and keeps the tests that share a
# server on one worker): `make test PYTEST_WORKERS=0` runs it in one process, `PYTEST_ARGS=...` adds pytest options.
# --no-loadscope-reorder: work goes out in the order tests/conftest.py sets (slow tests first), not largest group first.
# --durations=25: every run's log ends with its 25 slowest test phases (set-up, call, teardown), to see what grew.
# --tb=short: a failure shows its failing lines and messages, not each function's whole source, so that a CI log's
# first screen holds what failed.
PYTEST_WORKERS ?= auto
test: install-dev
	status=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25 --tb=short $(PYTEST_ARGS) || status=1; node --test tests/js/*.test.mjs || status=1; exit $$status

# Every check runs even when an earlier one fails, so one run shows everything; config in pyproject.toml.
lint: $(VENV)/.installed-dev
	status=0; \
	$(BIN)/ruff check || status=1; \
	$(BIN)/ruff format --check --output-format concise || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/lint-imports --no-cache --no-logo || status=1; \
	exit $$status

format: $(VENV)/.installed-dev
	$(BIN)/ruff format
	$(BIN)/ruff check --fix

bench: install-dev $(LIGHTHOUSE_DIR)/node_modules/.installed
	@status=0; for script in bench/*.py; do echo "== $$script" >&2; $(BIN)/python $$script || status=1; done; exit $$status

lighthouse: install $(LIGHTHOUSE_DIR)/node_modules/.installed
	$(BIN)/python bench/lighthouse.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(AXE_DIR)/node_modules $(VNU_DIR)/node_modules $(LIGHTHOUSE_DIR)/node_modules

.PHONY: messages
# Extract translatable strings (gettext calls, and the texts' `_.plural(singular, plural, n)`) into locale/messages.pot, then merge them into locale/{ar,fr,fa}/LC_MESSAGES/messages.po.
# New languages start with: $(BIN)/pybabel init -i locale/messages.pot -d locale -l <code>
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k plural:1,2 -o locale/messages.pot --add-location=file --sort-output --project=events .
	$(BIN)/pybabel update -i locale/messages.pot -d locale --ignore-obsolete --no-fuzzy-matching
