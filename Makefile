# Two commands set everything up: `make lab` and `make test` (see README).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

EXT_SOURCES := $(wildcard labextension/src/*.ts labextension/style/*) labextension/package.json
EXT_BUILT := kimi_jupyter/labextension/package.json

.PHONY: lab test install lint typecheck imports lint-js test-js test-py bench clean

lab: install
	@bash scripts/lab.sh

test: install lint typecheck imports lint-js test-js test-py

install: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Build tools first, so the package installs without build isolation (no second jupyterlab).
$(VENV)/.build-tools: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "hatchling>=1.21" "hatch-jupyter-builder>=0.9" \
		"hatch-nodejs-version>=0.3.2" editables "jupyterlab>=4.2,<5"
	touch $@

labextension/node_modules/.installed: labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund
	touch $@

$(EXT_BUILT): labextension/node_modules/.installed $(VENV)/.build-tools $(EXT_SOURCES)
	cd labextension && npm run build:prod
	touch $@

# The editable install copies the prebuilt extension (the wheel's shared-data) into the venv;
# it reruns whenever the extension is rebuilt (by the rule above, so the hook is skipped). (No `labextension develop` symlink: pip would
# write and delete through it.)
$(VENV)/.installed: $(VENV)/.build-tools $(EXT_BUILT) pyproject.toml
	if [ -L $(VENV)/share/jupyter/labextensions/kimi-jupyter ]; then rm $(VENV)/share/jupyter/labextensions/kimi-jupyter; fi
	SKIP_JUPYTER_BUILDER=1 $(BIN)/pip install --quiet --no-build-isolation -e ".[test,dev]"
	touch $@

lint: install
	$(BIN)/ruff check kimi_jupyter tests benchmarks scripts
	$(BIN)/ruff format --check kimi_jupyter tests benchmarks scripts

typecheck: install
	$(BIN)/mypy

# The contracts are in pyproject.toml: no import cycles, a UI-free core.
imports: install
	$(BIN)/lint-imports --no-cache

lint-js: install
	cd labextension && npm run lint:check

test-js: install
	cd labextension && npm test

test-py: install
	$(BIN)/pytest

# jupyter-ai-magics is installed only here, to compare %load_ext times side by side.
bench: install
	$(BIN)/pip install --quiet jupyter-ai-magics
	$(BIN)/python benchmarks/bench_stream_cpu.py
	$(BIN)/python benchmarks/bench_live_view.py
	$(BIN)/python benchmarks/bench_context.py
	$(BIN)/python benchmarks/bench_load_ext.py
	$(BIN)/python benchmarks/bench_map.py
	$(BIN)/python benchmarks/bench_adversarial.py
	$(BIN)/python benchmarks/bench_agent.py

clean:
	rm -rf $(VENV) labextension/node_modules labextension/lib kimi_jupyter/labextension
