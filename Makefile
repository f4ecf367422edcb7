# Flowline. `make studio`: builds everything and serves VS Code with the extension on the samples.
# `make test`: installs what the tests need (.venv, node_modules, Chromium, code-server) and runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat server/pyproject.toml | sha1sum | cut -c1-12)

# The stamp names the install recipe: a changed recipe installs again.
LOCAL_LLM_STAMP := $(VENV)/.local-llm-$(shell cat scripts/install-local-model.sh | sha1sum | cut -c1-12)

NPM_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | sha1sum | cut -c1-12)
BIN := node_modules/.bin
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json | head -1)
VSIX := flowline-$(VERSION).vsix

.PHONY: test install lint typecheck bench clean local-llm local-llm-install local-llm-stop system-deps \
	node-deps extension ext-check vsix code-server e2e studio

$(STAMP): server/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e 'server[test,ray]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# The test package that registers tools through the `package_tools` entry point (tests/server/test_package_tools.py).
DEMO_TOOLS := tests/server/packages/flowline-demo-tools
DEMO_TOOLS_STAMP := $(VENV)/.demo-tools-$(shell cat $(DEMO_TOOLS)/pyproject.toml $(DEMO_TOOLS)/flowline_demo_tools/*.py | sha1sum | cut -c1-12)

$(DEMO_TOOLS_STAMP): $(STAMP) $(DEMO_TOOLS)/pyproject.toml $(wildcard $(DEMO_TOOLS)/flowline_demo_tools/*.py)
	$(PY) -m pip install --quiet --no-deps --force-reinstall $(DEMO_TOOLS)
	rm -f $(VENV)/.demo-tools-* && touch $(DEMO_TOOLS_STAMP)

install: $(STAMP) $(DEMO_TOOLS_STAMP)

# A portable build of llama-cpp-python, compiled once per machine and kept in ~/.cache/flowline.
$(LOCAL_LLM_STAMP): $(STAMP) scripts/install-local-model.sh
	bash scripts/install-local-model.sh $(PY)
	rm -f $(VENV)/.local-llm-* && touch $(LOCAL_LLM_STAMP)

local-llm-install: $(LOCAL_LLM_STAMP)

# The extension's npm packages (npm's cache lives outside the clone).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $(NPM_STAMP)

node-deps: $(NPM_STAMP)

extension: node-deps
	node extension/build.mjs

# tsc --strict on the extension, its webview and the e2e tests; eslint; unit tests in plain Node.
ext-check: node-deps
	$(BIN)/tsc -p extension
	$(BIN)/tsc -p extension/webview
	$(BIN)/tsc -p tests/e2e --noEmit
	$(BIN)/eslint extension tests/e2e
	rm -rf extension/out && $(BIN)/tsc -p extension/tsconfig.test.json
	node --test extension/out/test/

vsix: extension
	node extension/package.mjs

# code-server (VS Code in the browser), pinned and cached under ~/.cache/flowline.
code-server:
	@bash scripts/install-code-server.sh >/dev/null

e2e: vsix install local-llm-install system-deps code-server
	rm -rf tests/e2e/out tests/e2e/screenshots && $(BIN)/tsc -p tests/e2e
	node --test --test-concurrency=1 tests/e2e/out/

studio: vsix install local-llm-install code-server
	bash scripts/studio.sh

# Debian's Chromium: the tests look at the HTML run report and drive VS Code in it.
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

test: install local-llm-install system-deps lint typecheck ext-check
	$(PY) -m pytest tests/server -q
	$(MAKE) e2e

bench: install
	$(PY) -m pip install --quiet -e 'server[bench]'
	$(PY) bench/flow_test.py
	$(PY) bench/batch.py
	$(PY) bench/lsp.py
	$(PY) bench/serve.py
	$(PY) bench/sdk.py
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache node_modules dist extension/out tests/e2e/out $(VSIX)
