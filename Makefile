# Two commands on a fresh machine (see README):
#   make demo   set up, then solve a bundled week and print the summary
#   make test   set up, then lint, type-check, check generated code, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint protos client-protos browser postgres clean

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
	$(BIN)/ruff check scheduler tests scripts
	$(BIN)/ruff format --check scheduler tests scripts
	$(BIN)/mypy

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

# PostgreSQL's server binaries for the job store's tests (installed as root on Debian if missing).
postgres:
	sh scripts/ensure_postgres.sh

# The API's protos with the google/type, google/rpc and well-known protos they need, for clients
# in other languages (see docs/grpc.md).
client-protos: $(STAMP)
	$(BIN)/python scripts/export_protos.py --to out/protos

# The report's browser test needs Debian's chromium and chromium-driver: installed here when
# missing (CI runs as root); elsewhere without root, a warning and the browser tests skip.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends chromium chromium-driver; \
	else echo "warning: chromium/chromedriver missing and not root: browser tests will skip"; fi

test: lint browser postgres
	$(BIN)/python scripts/gen_protos.py --check
	SCHEDULER_BROWSER_TESTS=$$(command -v chromium >/dev/null && echo required || echo optional) \
		$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
