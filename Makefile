# festival-lineup: the front door. `make help` lists the targets.
SHELL := bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# The festival package runs on any Python >= 3.10: probe PATH, then pyenv's builds (newest first).
BOOTSTRAP_PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[0-9]*/bin/python3 2>/dev/null | sort -rV); do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; \
	then command -v $$p; break; fi; done)
# Stay off bytecode caches in lambda/ so packaging sees only sources.
export PYTHONDONTWRITEBYTECODE := 1
PYTHON_SOURCES := lambda src localstack_plugin benchmarks tests
# checkov pins packages the project's tools cannot share (packaging<24, an older boto3):
# like the emulator, it gets a virtualenv of its own, installed once (niced: it installs
# beside .venv, which the other checks wait for).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .local/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# A tool whose pins the project cannot share, installed once into a virtualenv of its own:
# $(call tool_virtualenv,NAME,FOLDER,PACKAGE,VERSION), the recipe of FOLDER/.installed-VERSION.
define tool_virtualenv
	@if [ -z "$(BOOTSTRAP_PYTHON)" ]; then \
		echo "$(1) needs Python 3.10 or newer with venv: install one (e.g. apt-get install python3 python3-venv)." >&2; exit 1; fi
	@echo "Installing $(1) $(4) into $(2) with $(BOOTSTRAP_PYTHON), once"
	@rm -rf $(2) && $(BOOTSTRAP_PYTHON) -m venv $(2)
	@mkdir -p .local/logs
	@nice -n 10 $(2)/bin/python -m pip install --disable-pip-version-check '$(3)==$(4)' \
		> .local/logs/setup-$(3).log 2>&1 \
		|| { tail -n 30 .local/logs/setup-$(3).log >&2; echo "Installing $(1) failed: see .local/logs/setup-$(3).log" >&2; exit 1; }
	@touch $@
endef

# A sub-make's jobs: N, unless it runs inside a parallel make (make -jM, or a sub-make of
# one), whose job slots it then shares.
jobs = $(if $(findstring jobserver,$(MAKEFLAGS)),,--jobs=$(1))

.PHONY: help setup local-parts static e2e up down reset notebooks status mail check lint typecheck scan unit-tests test test-large soak bench bench-local clean \
	deploy-aws destroy-aws browser

help: ## Show this help
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(BOOTSTRAP_PYTHON)" ]; then \
		echo "festival-lineup needs Python 3.10 or newer with venv: install one (e.g. apt-get install python3 python3-venv, or pyenv install 3.12)." >&2; exit 1; fi
	@echo "Creating $(VENV) with $(BOOTSTRAP_PYTHON)"
	@rm -rf $(VENV) && $(BOOTSTRAP_PYTHON) -m venv $(VENV)
	@mkdir -p .local/logs
	@$(PY) -m pip install --disable-pip-version-check -e '.[dev]' > .local/logs/setup-venv.log 2>&1 \
		|| { tail -n 30 .local/logs/setup-venv.log >&2; echo "Installing into $(VENV) failed: see .local/logs/setup-venv.log" >&2; exit 1; }
	@touch $@

setup: ## Install the project's tools into .venv and the local stack's parts
	@# .venv and the local stack's parts side by side.
	@$(MAKE) --no-print-directory --silent $(call jobs,2) \
		--output-sync=target $(VENV)/.installed local-parts

# LocalStack's virtualenv, the Lambda runtime and MailDev, side by side. The installer needs
# only the standard library, so it runs from src/ while .venv is still being made.
local-parts:
	@if [ -z "$(BOOTSTRAP_PYTHON)" ]; then \
		echo "The local stack needs Python 3.10 or newer with venv: install one (e.g. apt-get install python3 python3-venv)." >&2; exit 1; fi
	@PYTHONPATH=src nice -n 10 $(BOOTSTRAP_PYTHON) -m festival.local.setup

up: setup ## Start the local stack (LocalStack, MailDev, mail forwarder), deploy the template, restore what `make down` saved [MODE=docker EMAIL=...]
	@$(VENV)/bin/festival-local up $(if $(EMAIL),--email $(EMAIL)) $(if $(filter docker,$(MODE)),--docker)

down: ## Save the buckets, tables and mail under .local/state, then stop exactly what `make up` started [DISCARD=1]
	@if [ -x $(VENV)/bin/festival-local ]; then $(VENV)/bin/festival-local down $(if $(filter docker,$(MODE)),--docker) $(if $(filter 1,$(DISCARD)),--discard); else echo "Nothing to stop."; fi

reset: setup ## Stop without saving, forget the saved state and mail, start the local stack empty [EMAIL=...]
	@$(VENV)/bin/festival-local reset $(if $(EMAIL),--email $(EMAIL))

# JupyterLab has a virtualenv of its own (its dependencies are not the project's); the
# notebooks' kernel, python3, runs on .venv's interpreter (festival.local.notebooks).
JUPYTERLAB_VERSION := 4.6.6
JUPYTERLAB_VENV := .local/jupyterlab
NOTEBOOK_KERNELS := .local/jupyter
NOTEBOOK_PORT ?= 8888

$(JUPYTERLAB_VENV)/.installed-$(JUPYTERLAB_VERSION):
	$(call tool_virtualenv,JupyterLab,$(JUPYTERLAB_VENV),jupyterlab,$(JUPYTERLAB_VERSION))

notebooks: $(VENV)/.installed $(JUPYTERLAB_VENV)/.installed-$(JUPYTERLAB_VERSION) ## Open JupyterLab on notebooks/ with the project's kernel (the queries notebook needs make up) [NOTEBOOK_PORT=8888]
	@$(PY) -m festival.local.notebooks kernelspec $(NOTEBOOK_KERNELS) > /dev/null
	@JUPYTER_PATH="$(abspath $(NOTEBOOK_KERNELS))" $(JUPYTERLAB_VENV)/bin/jupyter lab \
		--notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(NOTEBOOK_PORT) \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

status: $(VENV)/.installed ## Show which local processes run and whether the stack is deployed
	@$(VENV)/bin/festival-local status

mail: $(VENV)/.installed ## List the emails captured by MailDev
	@$(VENV)/bin/festival-local mail

# The browser tests drive Debian's chromium (tests/browser.py); Playwright downloads nothing.
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get

browser: ## Install Debian's chromium for the browser tests, if it is missing
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if command -v $(APT_GET) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then AS_ROOT=; elif sudo -n true 2>/dev/null; then AS_ROOT="sudo -n"; else AS_ROOT=no; fi; \
		if [ "$$AS_ROOT" != no ]; then \
			echo "Installing Debian's chromium for the browser tests (apt-get), once"; mkdir -p .local/logs; \
			{ $$AS_ROOT $(APT_GET) update && $$AS_ROOT env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y chromium; } \
				> .local/logs/setup-chromium.log 2>&1 || tail -n 20 .local/logs/setup-chromium.log >&2; \
			if [ -x $(CHROMIUM) ]; then exit 0; fi; fi; \
	fi; \
	echo "The browser tests need Chromium at $(CHROMIUM): install Debian's package as root (apt-get install chromium) and run make again." >&2; \
	exit 1

check: static ## Lint, type-check, scan the template, run the tests that need no local stack
	@$(MAKE) --no-print-directory unit-tests

# The three static checks are one process each, and the local stack's parts install
# meanwhile (niced: .venv, which the checks wait for, goes first): side by side they take
# the longest one's time.
static:
	@$(MAKE) --no-print-directory $(call jobs,4) --output-sync=target lint typecheck scan local-parts

lint: $(VENV)/.installed ## Lint the code (ruff rules and format) and the template (cfn-lint)
	@$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	@$(VENV)/bin/ruff format --check --output-format concise $(PYTHON_SOURCES)
	@$(VENV)/bin/cfn-lint cloudformation.yaml

typecheck: $(VENV)/.installed ## Type-check everything with mypy (pyproject.toml says what)
	@$(VENV)/bin/mypy

scan: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION) ## Scan the template with checkov (accepted findings: its Metadata)
	@$(CHECKOV) --file cloudformation.yaml --framework cloudformation --compact --quiet \
		--skip-download

unit-tests: setup browser ## Run the unit and functional tests on every core (no local stack; the emulator's own moto for the plugin's tests)
	@$(PY) -m pytest --ignore=tests/e2e --numprocesses=auto --dist=worksteal

test: static ## Run every test: `make check`, and tests/e2e on the local stack (started if needed, stopped after) beside it [PYTEST_ARGS=...]
	@# The end-to-end tests mostly wait for the stack (under half of 2 cores): they run
	@# beside the unit and functional tests, each one's output printed when it ends.
	@$(MAKE) --no-print-directory $(call jobs,2) --output-sync=target unit-tests e2e

e2e: setup browser ## Run tests/e2e on the local stack (started if needed, stopped after) [PYTEST_ARGS=...]
	@$(PY) -m pytest tests/e2e --durations=15 $(PYTEST_ARGS)

LARGE_ROWS ?= 300000
test-large: setup ## Run the lifecycle tests on files of 300,000 rows and print their figures [LARGE_ROWS=N]
	@FESTIVAL_E2E_ROWS=$(LARGE_ROWS) $(PY) -m pytest tests/e2e/test_lifecycle.py --timeout=3600 \
		--durations=0 -rA $(PYTEST_ARGS)

SOAK_SCHEDULES ?= 20000
SOAK_EXAMPLES ?= 200
soak: $(VENV)/.installed ## Run the lifecycle's interleaving check on 20,000 seeded schedules (make check runs 2,000), the queries against brute force on 200 lineups (12), and the parser's and nights' properties on 500 examples (50) [SOAK_SCHEDULES=N SOAK_EXAMPLES=N]
	@FESTIVAL_SCHEDULES=$(SOAK_SCHEDULES) FESTIVAL_BRUTE_FORCE_EXAMPLES=$(SOAK_EXAMPLES) HYPOTHESIS_PROFILE=soak \
		$(PY) -m pytest tests/unit/test_interleavings.py tests/functional/test_queries_match_brute_force.py \
		tests/functional/test_queries_nights.py tests/unit/test_parsing_properties.py \
		tests/unit/test_parsing_clocks_properties.py tests/unit/test_nights.py tests/unit/test_day_paging.py \
		--numprocesses=auto -q

bench: setup ## Measure parse speed, memory, write requests and end-to-end speed (prints figures)
	@$(PY) benchmarks/bench.py $(BENCH_ARGS)

BENCH_ROWS ?= 300000
bench-local: up ## Measure the emulator's DynamoDB at real sizes: batched puts and deletes, the README's questions, the explorer's pages [BENCH_ROWS=N]
	@$(PY) benchmarks/emulator.py --rows $(BENCH_ROWS)

.PHONY: figures
figures: $(VENV)/.installed ## Redraw docs/img and the cost notebook's outputs from the seed lineup, the cost model and benchmarks/results.json
	@$(PY) -m festival.figures
	@$(PY) -m festival.local.notebooks execute notebooks/cost_model.ipynb

$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	$(call tool_virtualenv,checkov,$(CHECKOV_VENV),checkov,$(CHECKOV_VERSION))

clean: down ## Stop everything and remove .venv and .local
	rm -rf $(VENV) .local

deploy-aws: $(VENV)/.installed ## Deploy to AWS via a change set: EMAIL=... [STACK RUNTIME ALARM_EMAIL PARAMS REGION PROFILE DRY_RUN=1 YES=1]
	@$(PY) -m festival.aws_deploy deploy --email "$(EMAIL)" \
		$(if $(STACK),--stack "$(STACK)") $(if $(RUNTIME),--runtime "$(RUNTIME)") \
		$(if $(ALARM_EMAIL),--alarm-email "$(ALARM_EMAIL)") \
		$(foreach p,$(PARAMS),--parameter "$(p)") \
		$(if $(REGION),--region "$(REGION)") $(if $(PROFILE),--profile "$(PROFILE)") \
		$(if $(filter 1,$(DRY_RUN)),--dry-run) $(if $(filter 1,$(YES)),--yes)

destroy-aws: $(VENV)/.installed ## Delete the AWS stack after confirmation (keeps the table) [STACK REGION PROFILE DRY_RUN=1 YES=1]
	@$(PY) -m festival.aws_deploy destroy $(if $(STACK),--stack "$(STACK)") \
		$(if $(REGION),--region "$(REGION)") $(if $(PROFILE),--profile "$(PROFILE)") \
		$(if $(filter 1,$(DRY_RUN)),--dry-run) $(if $(filter 1,$(YES)),--yes)
