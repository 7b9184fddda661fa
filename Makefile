# Two commands do everything on a fresh Debian machine with Python 3.11:
#   make run    venv + install, a private Redis (or $REDIS_URL), a demo batch per channel in DRY_RUN,
#               the worker, then a table of the demo jobs' outcomes
#   make test   venv + install, redis-server if missing, lint (ruff + mypy), the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run worker test lint format redis-server test-tools stop-redis docs bench mutation clean

$(STAMP): requirements.txt requirements.lock requirements-dev.txt
	@echo "==> [1/3] checking python3-venv"
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  echo "    installing python3-venv from Debian (apt-get)..."; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y python3-venv; }
	@if [ -x $(BIN)/python ]; then echo "==> [2/3] virtualenv $(VENV) exists"; \
	else echo "==> [2/3] creating the virtualenv $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	@echo "==> [3/3] installing the runtime from the hashed lock, then the test and lint tools, with pip"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -r requirements-dev.txt
	@touch $(STAMP)
	@echo "==> installed; the next make run/test skips this step until a requirements file changes"

# make run: the demo in DRY_RUN on this checkout's private redis-server (never a Redis merely
# found on localhost; set REDIS_URL to choose one), then a table of the demo jobs' outcomes.
run: $(STAMP)
	@scripts/run-demo.sh

worker: $(STAMP)
	@BURST=0 scripts/run-demo.sh

redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "==> installing redis-server from Debian (apt-get)..."; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y redis-server; }

# What the browser and unit-file tests drive: Debian's chromium + chromium-driver (no browser
# download); systemd-analyze (the unit-file tests skip without it) is installed by .ci/run.
test-tools:
	@need=""; command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	command -v chromedriver >/dev/null 2>&1 || need="$$need chromium-driver"; \
	if [ -n "$$need" ]; then echo "==> installing$$need from Debian (apt-get)..."; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$need; fi

stop-redis:
	@if [ -f .run/redis.pid ] && kill "$$(cat .run/redis.pid)" 2>/dev/null; then \
	  rm -f .run/redis.pid; echo "stopped the private redis-server"; \
	else echo "no private redis-server running"; fi

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) redis-server test-tools lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .run .mypy_cache .ruff_cache mutants

# Benchmark against stock rq (issue 6): prints a table, writes bench/results/latest.json (~10 min;
# `make bench BENCH_ARGS=--quick` for a one-minute smoke run). See docs/performance.md.
bench: $(STAMP) redis-server
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Mutation testing with mutmut (issue 11; not part of make test): one mutant at a time, nice 10,
# the fast in-process tests of pyproject.toml [tool.mutmut]. `make mutation MODULES=rq_ext.outcome`
# for one module; `.venv/bin/mutmut results` / `mutmut show NAME` afterwards. See docs/reliability.md.
mutation: $(STAMP) redis-server
	@scripts/mutmut-run.sh $(MODULES)
