# `make run` sets up and runs the panel; `make test` sets up and runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench lab-up lab-down clean

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py serve

test: $(VENV)/.installed-test
	sh tests/lab/install-packages.sh
	sh tests/run-suite.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(VENV)/.installed-test
	$(BIN)/pip install -q -e '.[test,bench]'
	sh tests/lab/install-packages.sh prometheus-node-exporter
	$(BIN)/python -m tests.lab up
	$(BIN)/python -m bench.ssh_fanout
	$(BIN)/python -m bench.deploy_overhead
	$(BIN)/python -m bench.zero_downtime
	$(BIN)/python -m bench.fanout_deploy
	$(BIN)/python -m bench.image_copy
	$(BIN)/python -m bench.build_deploy
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.live_log
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.accessory_boot
	$(BIN)/python -m bench.backup
	$(BIN)/python -m bench.monitoring

lab-up: $(VENV)/.installed-test
	$(BIN)/python -m tests.lab up

lab-down: $(VENV)/.installed-test
	$(BIN)/python -m tests.lab down

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
	    && $(PYTHON) -m venv $(VENV); \
	  else echo "Install python3-venv (sudo apt-get install python3-venv), then run make again."; exit 1; fi; }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV)
