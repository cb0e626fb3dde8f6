# The two set-up commands of the README. Both install what is missing first (scripts/setup.sh is
# idempotent and quiet when nothing is missing).
.PHONY: up test lint deps bench

VENV := .venv
PY := $(VENV)/bin/python

deps:
	@bash scripts/setup.sh

up: deps
	@$(VENV)/bin/kubelite server --data-dir $(CURDIR)/data $(ARGS)

lint: deps
	@$(VENV)/bin/ruff check kubelite tests bench
	@$(VENV)/bin/mypy

test: lint
	@$(PY) -m pytest -q $(PYTEST_ARGS)

bench: deps
	@$(PY) bench/store.py
