# The README's commands. Everything runs from the project's own virtualenv.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The contract tests also drive segment-analytics-python 2.3.x (no Authorization header, write
# key in the body); it lives apart from the 2.4.x in the venv and is put on PYTHONPATH by the test.
SEGMENT23 := $(VENV)/sdk/segment23

.PHONY: install run test lint format bench screenshots clean

install: $(STAMP) $(SEGMENT23)/.installed-stamp

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(SEGMENT23)/.installed-stamp: $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade --target $(SEGMENT23) "segment-analytics-python>=2.3,<2.4"
	touch $@

run: install
	$(BIN)/leadpond db upgrade
	$(BIN)/leadpond demo --ensure
	$(BIN)/leadpond serve

# Two workers (the machine has two cores), a test file to one worker: a file's module-scoped
# live servers start once, and its tests keep their order.
test: install
	$(BIN)/pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix src tests benchmarks scripts
	$(BIN)/ruff format src tests benchmarks scripts

bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The console's main pages in Chinese, desktop and phone, for docs/console.md (Debian's chromium;
# pngquant, when installed, keeps the PNGs small).
screenshots: install
	PYTHONPATH=. $(BIN)/python scripts/console_screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
