# Two commands for a fresh machine:  make run  |  make test
# Both create .venv and install the project on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The portal's browser assets (KERN, Swagger UI, ReDoc, axe-core) from npm, copied into
# gateway/portal/static/vendor/ (docs/portal.md).
ASSETS := gateway/portal/assets
VENDOR := gateway/portal/static/vendor/.installed
PORT   ?= 8000

.PHONY: run test lint format bench fuzz fuzz-api clean chromium messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENDOR): $(ASSETS)/package-lock.json $(STAMP)
	npm ci --prefix $(ASSETS) --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python -m gateway.portal.assets

## Debian's Chromium for the browser tests (Playwright cannot download browsers here)
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

## Serve the embedded defaults on http://127.0.0.1:8000 (PORT=... to change; open / for the portal) (SQLite, filesystem, dev identity, sandbox payments)
run: $(STAMP) $(VENDOR)
	$(BIN)/ozg-commons serve --host 127.0.0.1 --port $(PORT)

## Lint, type-check, check the dependency direction, then run the whole test suite
test: lint $(VENDOR) chromium
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

## Fuzz every parser, FUZZ_RUNS executions each (default 10^6; atheris, docs/security.md)
FUZZ_RUNS ?= 1000000
FUZZ_STAMP := $(VENV)/.installed-fuzz
$(FUZZ_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fuzz]'
	touch $(FUZZ_STAMP)

fuzz: $(FUZZ_STAMP)
	OZG_FUZZ_RUNS=$(FUZZ_RUNS) $(BIN)/python benchmarks/fuzz_parsers.py
	$(MAKE) fuzz-api

## Schemathesis against the whole API as each role, FUZZ_API_EXAMPLES per operation (default 25)
FUZZ_API_EXAMPLES ?= 25
fuzz-api: $(STAMP)
	$(BIN)/python benchmarks/fuzz_api.py --max-examples $(FUZZ_API_EXAMPLES)

## Extract the messages of the portal and the command line into the catalogues (docs/portal.md)
MESSAGE_SOURCES := commons account vault payments compliance gateway
LOCALES := gateway/portal/locales
messages: $(STAMP)
	$(BIN)/pybabel extract -F gateway/portal/babel.cfg -k N_ --no-location --sort-output \
	  --omit-header -o $(LOCALES)/messages.pot $(MESSAGE_SOURCES)
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(ASSETS)/node_modules gateway/portal/static/vendor
