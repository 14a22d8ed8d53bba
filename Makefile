# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Test processes side by side (pytest-xdist): one per core; PYTEST_WORKERS=0 runs the tests in this process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: demo test test-fast lint install browser clean bench bench-cli soak

demo: browser
	$(BIN)/portal-worker demo

# Everything: real Chromium, real processes, PostgreSQL.
test: browser
	$(BIN)/pytest $(PYTEST_PARALLEL)

# The inner loop: unit and store tests only, no Chromium and no real processes (about a minute).
test-fast: install
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not browser and not slow"

# ruff and mypy, at zero findings; mypy reads bench/ too, so the bench extra comes along.
lint: $(VENV)/.lint-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(VENV)/.installed

# Re-installs whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "portal-worker needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "could not create $(VENV): on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(VENV)/.lint-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench,lint]'
	@touch $@

# Throughput figures (bench/throughput.py): BENCH_ARGS="--quick" for a smoke run.
bench: browser
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.throughput $(BENCH_ARGS)

# How long the commands people type take to start, against `python -c pass` (needs `make demo` first).
bench-cli: install
	$(BIN)/python -m bench.cli_start $(BENCH_CLI_ARGS)

# Memory over thousands of checks (bench/soak.py): SOAK_ARGS="--quick" for a smoke run.
soak: browser
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

# Finds a system Chromium, or installs one (Debian's package as root, else Playwright's), and says which.
browser: install
	$(BIN)/portal-worker browser setup

clean:
	rm -rf $(VENV) demo-data .pytest_cache
