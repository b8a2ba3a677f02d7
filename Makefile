# Project tasks. `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test demo serve test lint typecheck unit integration e2e bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	scripts/install-system-deps.sh
	touch $@

install: $(STAMP)
install-test: $(TEST_STAMP)

demo: install
	$(BIN)/allo demo

serve: install
	$(BIN)/allo serve

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-test
	$(BIN)/mypy

unit: install-test
	$(BIN)/pytest tests/unit

integration: install-test
	$(BIN)/pytest tests/integration

e2e: install-test
	$(BIN)/pytest tests/e2e

test: lint typecheck
	$(BIN)/pytest

bench: install-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/routing.py --quick
	$(BIN)/python bench/planning.py --quick
	$(BIN)/python bench/insights.py --quick
	$(BIN)/python bench/simulation.py --quick
	$(BIN)/python bench/live.py --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
