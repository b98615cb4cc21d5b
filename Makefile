# sohoa: two commands. `make run` sets up and serves; `make test` sets up and runs every test.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps system-deps-test venv demo lint clean

run: system-deps venv
	$(VENV)/bin/sohoa migrate
	@echo "sohoa: http://127.0.0.1:8000  (API docs: /docs; dev API keys: var/dev-credentials.json)"
	$(VENV)/bin/sohoa serve --sample

test: system-deps-test venv
	scripts/test-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

demo: system-deps venv
	$(VENV)/bin/sohoa demo

setup: system-deps venv

system-deps:
	scripts/system-deps.sh run

system-deps-test:
	scripts/system-deps.sh test

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
