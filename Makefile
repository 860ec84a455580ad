# portal: two commands on a fresh machine.
#   make run    set up, migrate, seed demo data when empty, serve http://127.0.0.1:8000
#   make test   set up (dev dependencies, Debian chromium) and run the suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup run test lint format bench clean chromium i18n

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

setup: $(BIN)/.installed node_modules/.installed

run: setup
	$(BIN)/portal migrate
	$(BIN)/portal demo --if-empty
	$(BIN)/portal run

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: setup
	$(BIN)/ruff check portal tests bench

test: setup chromium lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --timeout 300 $(PYTEST_ARGS)

format: setup
	$(BIN)/ruff format portal tests bench
	$(BIN)/ruff check --fix portal tests bench

bench: setup
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench $(BENCH_ARGS)

i18n: setup
	$(BIN)/python -m portal.catalog

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
