# kuaizhao: `make demo` shows it working, `make test` checks everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint fix mypy pytest serve crawl sampleweb bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install  ## sample web + crawl + site on http://127.0.0.1:8000
	$(BIN)/kuaizhao demo

test: lint mypy pytest  ## everything CI checks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fix: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

mypy: install
	$(BIN)/mypy kuaizhao

pytest: install
	$(BIN)/pytest

serve: install
	$(BIN)/kuaizhao serve

crawl: install
	$(BIN)/kuaizhao crawl --once

sampleweb: install
	$(BIN)/kuaizhao sampleweb --port 8001

bench: install  ## every benchmark; each prints a table and writes benchmarks/results/*.json
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
