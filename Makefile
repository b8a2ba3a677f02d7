# Project tasks. `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
COMPILE_STAMP := $(VENV)/.compiled
COMPILED_SOURCES := $(shell $(PYTHON) scripts/compile.py --list)

.PHONY: install install-test compile interpreted demo serve test lint typecheck unit integration e2e bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	scripts/install-system-deps.sh
	touch $@

# The routing engine and the twin compiled with mypyc (scripts/compile.py), rebuilt when
# one of their sources changes.
$(COMPILE_STAMP): $(STAMP) scripts/compile.py $(COMPILED_SOURCES)
	$(BIN)/pip install --quiet 'mypy>=1.11'
	$(BIN)/python scripts/compile.py
	touch $@

install: $(STAMP) $(COMPILE_STAMP)
install-test: $(TEST_STAMP)
compile: $(COMPILE_STAMP)

interpreted:
	$(PYTHON) scripts/compile.py --clean
	rm -f $(COMPILE_STAMP)

demo: install
	$(BIN)/allo demo

serve: install
	$(BIN)/allo serve

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-test
	$(BIN)/mypy

unit: install-test compile
	$(BIN)/pytest tests/unit

integration: install-test compile
	$(BIN)/pytest tests/integration

e2e: install-test compile
	$(BIN)/pytest tests/e2e

test: lint typecheck compile
	$(BIN)/pytest

bench: install-test compile
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/routing.py --quick
	$(BIN)/python bench/planning.py --quick
	$(BIN)/python bench/insights.py --quick
	$(BIN)/python bench/simulation.py --quick
	$(BIN)/python bench/live.py --quick
	$(BIN)/python bench/endpoints.py --quick
	$(BIN)/python bench/wall.py --quick

clean: interpreted
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build
