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

.PHONY: run test lint lock audit format bench fuzz fuzz-api clean chromium messages

# The exact versions in requirements.lock, each checked against its hashes, then the project
# itself without resolving anything again (make lock after a change to the dependencies).
LOCK   := requirements.lock
# Test processes (pytest-xdist); PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

## Pin every dependency (and the dev tools) with hashes in requirements.lock, from pyproject.toml
lock:
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

## Check the locked dependencies against the PyPI advisory database (pip-audit)
audit: $(STAMP)
	$(BIN)/python scripts/audit_dependencies.py $(LOCK)

$(VENDOR): $(ASSETS)/package-lock.json $(STAMP)
	npm ci --prefix $(ASSETS) --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python -m gateway.portal.assets

## Debian's Chromium for the browser tests (Playwright cannot download browsers here)
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

## Serve the embedded defaults on http://127.0.0.1:8000 (PORT=... to change; open / for the portal) (SQLite, filesystem, dev identity, sandbox payments)
run: $(STAMP) $(VENDOR)
	$(BIN)/ozg-commons serve --host 127.0.0.1 --port $(PORT)

## Lint, type-check, check the dependency direction, then run the whole test suite in
## $(PYTEST_WORKERS) processes (pytest-xdist; PYTEST_WORKERS=0: one process)
test: lint $(VENDOR) chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

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
