# Flowline: `make test` installs what the tests need into .venv and runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat server/pyproject.toml | sha1sum | cut -c1-12)

.PHONY: test install lint typecheck bench clean

$(STAMP): server/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e 'server[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

typecheck: install
	$(PY) -m mypy server/flowline

lint: install
	$(PY) -m ruff check --config server/pyproject.toml server bench tests

test: install lint typecheck
	$(PY) -m pytest tests/server -q

bench: install
	$(PY) bench/flow_test.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache
