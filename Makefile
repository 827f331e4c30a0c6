# Two commands on a fresh machine with Python 3.11+:  make demo  and  make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8765

.PHONY: demo demo-portal test lint format bench-sync bench-client bench-inbox clean

$(BIN)/python:
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PY=python3.11)")'
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The desktop app against a built-in demo practice: the portal API runs inside the app on a
# free loopback port with a fresh synthetic practice in a temporary folder, and simulated
# patients file requests every few seconds. No other setup, no network.
demo: $(STAMP)
	$(BIN)/portal-triage --demo

# The demo portal alone (for trying the API or pointing a desktop at it).
demo-portal: $(STAMP)
	@demo_dir=$$(mktemp -d); echo "demo database: $$demo_dir/portal.sqlite3"; \
	PORTAL_API_PASSWORD_PROFILE=fast $(BIN)/portal-api serve --host $(HOST) --port $(PORT) \
		--database "sqlite:///$$demo_dir/portal.sqlite3" --seed demo --simulate 6/min

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-sync: $(STAMP)
	$(BIN)/python bench/sync_throughput.py

bench-client: $(STAMP)
	$(BIN)/python bench/client_sync.py

bench-inbox: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/inbox_100k.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
