# Two commands do all the set-up: `make run` and `make test`.
PYTHON  ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
PY_DEPS := $(VENV)/.installed
JS_DEPS := e2e/node_modules/.installed
PLAYGROUND_PORT ?= 56150
FUZZ_EXAMPLES ?= 20000

.PHONY: run test fuzz chromium postgresql haproxy bench bench-cluster messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_DEPS): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(JS_DEPS): e2e/package.json e2e/package-lock.json
	npm ci --prefix e2e --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium for the Playground end-to-end tests (playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's PostgreSQL: the tests run every scenario on it too, on a throwaway server they start themselves.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi; }

# Debian's HAProxy: the cluster test runs three instances behind it.
haproxy:
	@[ -x /usr/sbin/haproxy ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; fi; }

## Start the bot on 127.0.0.1:3978 (SQLite in ./var/) and Agents Playground pointed at it.
run: $(PY_DEPS) $(JS_DEPS)
	PLAYGROUND_PORT=$(PLAYGROUND_PORT) BIN=$(BIN) bash e2e/run-local.sh

## Install everything the tests need and run them all (unit, scenario, Playground end-to-end),
## the scenarios on SQLite and on PostgreSQL, and three instances behind HAProxy.
test: $(PY_DEPS) $(JS_DEPS) chromium postgresql haproxy
	$(BIN)/python -m pytest

## tests/test_fuzz.py with many more mutated activities than `make test` posts (same fixed seed).
fuzz: $(PY_DEPS)
	POLL_BOT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py

## The vote-stampede benchmark (bench/run.py): our bot against the stock CloudAdapter and bare aiohttp,
## and one instance on PostgreSQL against one on SQLite (CPU per vote, the N-instance projection).
bench: $(PY_DEPS) postgresql
	$(BIN)/python bench/run.py --json var/bench.json

## The same PostgreSQL table with three instances behind HAProxy on this machine.
bench-cluster: $(PY_DEPS) postgresql haproxy
	$(BIN)/python bench/run.py --cluster 3 --json var/bench-cluster.json

## Extract every text to translate (babel.cfg) and merge it into each language's messages.po
## (new texts arrive empty, for translating; tests/test_i18n.py fails until they are).
messages: $(PY_DEPS)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --project="Poll Bot" --copyright-holder="Poll Bot" -w 120 --no-location --sort-output -o var/messages.pot poll_bot templates
	$(BIN)/pybabel update -w 120 -i var/messages.pot -d poll_bot/locale -D messages --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) e2e/node_modules var .pytest_cache
