# Two commands for a newcomer:
#   make run   - install, migrate, create the demo counsellor, add invented figures to an
#                empty database, serve at http://127.0.0.1:8000
#   make test  - install (with Chromium, nginx and axe-core), lint, type-check and run the whole
#                test suite
#
# Everything lives in .venv and var/ inside this folder. Nothing is installed system-wide
# except Debian's chromium (for browser tests), and only when it is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HAVEN_DATA_DIR ?= $(CURDIR)/var

# The services run (see `make test-services`); CI sets CI=true, which makes it mandatory.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/haven
SERVICES_REDIS_URL    ?= redis://127.0.0.1:6379/0

# The browser tests' accessibility check: axe-core from the npm registry, a fixed version.
AXE_VERSION := 4.14.1
AXE_JS      := $(VENV)/axe/node_modules/axe-core/axe.min.js

.PHONY: run test install install-test lock chromium nginx axe lint test-embedded test-services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs take the exact versions of requirements/*.txt, each file checked against its hash
# (`make lock` refreshes them from pyproject.toml's ranges); Haven itself is then installed
# on top without touching them.
$(VENV)/.installed: pyproject.toml requirements/runtime.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/runtime.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements/test.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(VENV)/.installed $@

# Refresh the locked versions (and their hashes) from pyproject.toml's ranges, from PyPI,
# with pip-tools in a throwaway environment. Then run the tests and commit both files.
LOCK_VENV   := $(VENV)-lock
PIP_COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links --all-build-deps --upgrade

lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet pip-tools==7.7.0
	@# The test set first, then the runtime set within its versions: the two agree, and a
	@# package the tests add cannot drag a shared one back to an old release.
	$(PIP_COMPILE) --extra test -o requirements/test.txt pyproject.toml
	$(PIP_COMPILE) --constraint requirements/test.txt -o requirements/runtime.txt pyproject.toml
	rm -rf $(LOCK_VENV)

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/haven migrate --noinput
	$(BIN)/haven democounsellor
	$(BIN)/haven demo-data --if-empty
	$(BIN)/haven serve --host $(HOST) --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The fault tests put docs/deployment.md's nginx configuration in front of two workers.
# (Also curl and systemd-analyze, for the guide's systemd units.)
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing Debian's nginx for the fault tests"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx; }
	@# The deployment test checks the guide's systemd units and runs their curl probes.
	@{ command -v curl && command -v systemd-analyze; } >/dev/null 2>&1 || { \
	  echo "Installing Debian's curl and systemd (systemd-analyze) for the deployment test"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq curl systemd; }

axe: $(AXE_JS)

$(AXE_JS): | $(BIN)/python
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's npm for axe-core"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm; }
	mkdir -p $(VENV)/axe
	npm install --silent --no-audit --no-fund --no-save --prefix $(VENV)/axe axe-core@$(AXE_VERSION)

lint: install-test
	$(BIN)/ruff check haven
	$(BIN)/ruff format --check haven
	$(BIN)/mypy haven

test-embedded: install-test chromium nginx axe
	$(BIN)/pytest -p no:cacheprovider

test-services: install-test chromium nginx axe
	@scripts/services.sh "$(SERVICES_DATABASE_URL)" "$(SERVICES_REDIS_URL)" || exit $$?
	DATABASE_URL="$(SERVICES_DATABASE_URL)" REDIS_URL="$(SERVICES_REDIS_URL)" \
	  HAVEN_EXPECT_SERVICES=1 $(BIN)/pytest -p no:cacheprovider

# The whole suite on the embedded default, then again on PostgreSQL + Redis when they are
# reachable (always in CI, where a missing service fails the run).
test: lint test-embedded
	@if [ "$$CI" = "true" ] || scripts/services.sh --check "$(SERVICES_DATABASE_URL)" "$(SERVICES_REDIS_URL)"; then \
	  $(MAKE) --no-print-directory test-services; \
	else \
	  echo "PostgreSQL or Redis not reachable here: the services run was skipped (CI runs it)."; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
