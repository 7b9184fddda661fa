# Two commands do everything on a fresh Debian machine with Python 3.11:
#   make run    venv + install, a local Redis if none, a demo batch per channel in DRY_RUN, the worker
#   make test   venv + install, redis-server if missing, lint (ruff + mypy), the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run worker test lint format redis-server stop-redis docs bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  echo "installing python3-venv from Debian..."; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	scripts/run-demo.sh

worker: $(STAMP)
	BURST=0 scripts/run-demo.sh

redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server from Debian..."; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server; }

stop-redis:
	@[ -f .run/redis.pid ] && kill "$$(cat .run/redis.pid)" && echo "stopped" || echo "no private redis running"

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) redis-server lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .run .mypy_cache .ruff_cache

# Benchmark against stock rq (issue 6): prints a table, writes bench/results/latest.json (~10 min;
# `make bench BENCH_ARGS=--quick` for a one-minute smoke run). See docs/performance.md.
bench: $(STAMP) redis-server
	$(BIN)/python -m bench.run $(BENCH_ARGS)
