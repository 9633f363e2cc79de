# promptlane tasks. Every target creates the virtualenv (.venv, via uv) when it is missing.
SHELL := /bin/bash
VENV := .venv
UV := $(VENV)/bin/uv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8

.PHONY: install run test pytest lint format typecheck bench db-upgrade clean

# Bootstrap: a venv with uv in it (uv then installs everything from uv.lock).
$(UV):
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The client package (clients/python) is a workspace member: synced editable with the rest.
# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI sandboxes), every
# process would otherwise compile what it imports from source (litellm alone takes seconds).
$(VENV)/.synced: $(UV) pyproject.toml clients/python/pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode
	@touch $@

# install: create .venv and install the locked dependencies (dev tools included).
install: $(VENV)/.synced

# run: install, migrate ./promptlane.db (SQLite) and serve on http://127.0.0.1:8000.
run: install
	$(BIN)/promptlane serve

# test: lint, type check, then pytest on SQLite, then on PostgreSQL if
# PROMPTLANE_TEST_POSTGRES_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test).
test: install lint typecheck pytest

pytest: install
	$(BIN)/pytest
	@if [ -n "$$PROMPTLANE_TEST_POSTGRES_URL" ]; then \
		echo "== pytest on PostgreSQL =="; \
		PROMPTLANE_TEST_DATABASE=postgres $(BIN)/pytest; \
	else \
		echo "PROMPTLANE_TEST_POSTGRES_URL not set: skipped the PostgreSQL run"; \
	fi

# lint: ruff (rules in pyproject.toml; the client package too) and the import-direction contracts.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# format: apply ruff's formatter and safe fixes.
format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# typecheck: mypy --strict over the four packages and the client package (promptlane_client).
typecheck: install
	$(BIN)/mypy

# bench: benchmarks (not tests); each prints ratios against a baseline from the same run.
bench: install
	$(BIN)/python bench/resolve.py
	$(BIN)/python bench/client_cache.py
	$(BIN)/python bench/client_footprint.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/runner.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/webhooks.py

# db-upgrade: migrate the configured database (PROMPTLANE_DATABASE_URL) to head.
db-upgrade: install
	$(BIN)/promptlane db upgrade

# clean: remove the virtualenv and caches (not your database).
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
