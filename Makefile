# Two commands on a fresh machine (see README):
#   make demo   set up, then solve a bundled week and print the summary
#   make test   set up, then lint, type-check, check generated code, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint protos postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/scheduler validate instances/soenderborg-week.json
	$(BIN)/scheduler solve instances/soenderborg-week.json --time-limit 10 -o out/soenderborg-solution.json
	$(BIN)/scheduler check instances/soenderborg-week.json out/soenderborg-solution.json

lint: $(STAMP)
	$(BIN)/ruff check scheduler tests
	$(BIN)/ruff format --check scheduler tests
	$(BIN)/mypy

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

# PostgreSQL's server binaries for the job store's tests (installed as root on Debian if missing).
postgres:
	sh scripts/ensure_postgres.sh

test: lint postgres
	$(BIN)/python scripts/gen_protos.py --check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
