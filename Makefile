# kuaizhao: `make demo` shows it working, `make test` checks everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint fix mypy pytest pytest-postgres serve crawl sampleweb bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install  ## sample web + crawl + site on http://127.0.0.1:8000
	$(BIN)/kuaizhao demo

test: lint mypy pytest pytest-postgres  ## everything CI checks

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

# The catalogue, its pages, API and search once more with PostgreSQL as the database.
PG_URL ?= postgres://postgres@127.0.0.1:5432/kuaizhao
PG_TESTS := tests/archive tests/api tests/search tests/ops tests/takedown tests/subscriptions
pytest-postgres: install
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL:/kuaizhao=/postgres)', connect_timeout=3).close()" 2>/dev/null; then \
		KUAIZHAO_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider $(PG_TESTS); \
	elif [ -n "$$KUAIZHAO_REQUIRE_SERVICES" ]; then \
		echo "PostgreSQL is unreachable at $(PG_URL) and KUAIZHAO_REQUIRE_SERVICES is set" >&2; exit 1; \
	else \
		echo "skipping the PostgreSQL pass: no server at $(PG_URL)"; \
	fi

serve: install
	$(BIN)/kuaizhao serve

crawl: install  ## one crawl of the sample web (start it first: make sampleweb)
	$(BIN)/kuaizhao crawl --once --outlets outlets/sample

sampleweb: install
	$(BIN)/kuaizhao sampleweb --port 8001

# The peers the benchmarks compare against. pip 23.2 (Python 3.11's) fails to resolve them
# (trafilatura and lxml_html_clean both ask for lxml[html-clean]); a current pip does.
$(VENV)/.bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

bench: $(VENV)/.bench  ## every benchmark; each prints a table and writes benchmarks/results/*.json
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
