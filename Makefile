# `make run` sets up and runs the panel; `make test` sets up and runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench lab-up lab-down wheels clean

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
	$(BIN)/python -m bench.production_stack
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

# Wheels of the panel's dependencies for the image's Python and machine, fetched here (the
# image may be built where PyPI is out of reach: `docker build --build-arg OFFLINE=1`). 3.11.2 is
# Debian 12's, the oldest Python an image base carries. Fetched again when pyproject.toml changes.
IMAGE_PYTHON := 3.11.2
# pip judges dependencies' markers by this machine's Python: what redis needs below 3.11.3.
BELOW_3_11_3 := 'async-timeout>=4.0.3'
WHEEL_PLATFORMS := $(foreach glibc,2014 _2_28 _2_34,--platform manylinux$(glibc)_$(shell uname -m))

wheels: wheels/requirements.txt

wheels/requirements.txt: pyproject.toml | $(BIN)/python
	rm -f wheels/*.whl
	$(BIN)/python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > $@.new
	$(BIN)/pip download -q --only-binary=:all: --python-version $(IMAGE_PYTHON) --implementation cp \
	  --abi cp311 $(WHEEL_PLATFORMS) --dest wheels -r $@.new $(BELOW_3_11_3)
	mv $@.new $@

clean:
	rm -rf $(VENV)
