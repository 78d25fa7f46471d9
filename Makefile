# Two commands for a fresh machine:  make run  |  make test
# Both create .venv and install the project on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Serve the embedded defaults on http://127.0.0.1:8000 (SQLite, filesystem, dev identity, sandbox payments)
run: $(STAMP)
	$(BIN)/ozg-commons serve --host 127.0.0.1 --port 8000

## Lint, type-check, check the dependency direction, then run the whole test suite
test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Run every benchmark in benchmarks/ (each ends with a RESULT line)
bench: $(STAMP)
	@set -e; for b in benchmarks/bench_*.py; do \
	  [ -e "$$b" ] || { echo "no benchmarks yet"; break; }; \
	  echo "== $$b"; $(BIN)/python "$$b"; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
