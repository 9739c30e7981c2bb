# Set-up and everyday commands. Each target creates the virtual environment in
# .venv on first use, so `make run` and `make test` work on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Open the TUI on the embedded demo practice (no config file, no network).
run: $(STAMP)
	$(BIN)/sched-tui --demo

## Run the whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest -q

## Run every benchmark and print ratios against in-run baselines.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
