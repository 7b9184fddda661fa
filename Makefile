# Two commands do everything on a fresh Debian machine with Python 3.11:
#   make run    venv + install, a private Redis (or $REDIS_URL), a demo batch per channel in DRY_RUN,
#               the worker, then a table of the demo jobs' outcomes
#   make test   venv + install, the SDK venv (tests/sdk), redis-server if missing, lint (ruff + mypy),
#               the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run worker test lint format redis-server test-tools smsc-simulator stop-redis docs bench clean sdk-env mutation

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

# The providers' official SDKs (test-only, tests/sdk) in venvs of their own, never the worker's:
# .venv-sdk (requirements-sdk.txt) and .venv-sdk-infobip (pydantic 1; every package listed, --no-deps).
SDK_STAMP := .venv-sdk/.installed
SDK_INFOBIP_STAMP := .venv-sdk-infobip/.installed

$(SDK_STAMP): requirements-sdk.txt
	@echo "==> installing the providers' SDKs (tests/sdk) into .venv-sdk, with pip"
	@[ -x .venv-sdk/bin/python ] || $(PYTHON) -m venv .venv-sdk
	.venv-sdk/bin/pip install --disable-pip-version-check --progress-bar off -r requirements-sdk.txt
	@touch $@

$(SDK_INFOBIP_STAMP): requirements-sdk-infobip.txt
	@echo "==> installing Infobip's SDK (tests/sdk) into .venv-sdk-infobip, with pip"
	@[ -x .venv-sdk-infobip/bin/python ] || $(PYTHON) -m venv .venv-sdk-infobip
	.venv-sdk-infobip/bin/pip install --disable-pip-version-check --progress-bar off --no-deps \
	  -r requirements-sdk-infobip.txt
	@touch $@

sdk-env: $(SDK_STAMP) $(SDK_INFOBIP_STAMP)

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

# The SMSC simulator of the smpp gateway's tests (tests/smsc: the npm `smpp` package, pinned by its
# package-lock.json), run with the machine's Node.js; installed by `npm ci` when node_modules is
# missing or older than the lock. Without node the smpp tests skip.
SMSC := tests/smsc
smsc-simulator:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "==> node/npm not installed: the smpp gateway's tests will skip"; \
	elif [ ! -d $(SMSC)/node_modules/smpp ] || [ $(SMSC)/package-lock.json -nt $(SMSC)/node_modules/.package-lock.json ]; then \
	  echo "==> installing the SMSC simulator (npm ci --prefix $(SMSC))"; \
	  npm ci --prefix $(SMSC) --no-audit --no-fund; fi

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

test: $(STAMP) sdk-env redis-server test-tools smsc-simulator lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .venv-sdk .venv-sdk-infobip .run .mypy_cache .ruff_cache $(SMSC)/node_modules mutants

# Benchmark against stock rq (issue 6): prints a table, writes bench/results/latest.json (~10 min;
# `make bench BENCH_ARGS=--quick` for a one-minute smoke run). See docs/performance.md.
bench: $(STAMP) redis-server
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Mutation testing with mutmut (issue 11; not part of make test): one mutant at a time, nice 10,
# the fast in-process tests of pyproject.toml [tool.mutmut]. `make mutation MODULES=rq_ext.outcome`
# for one module; `.venv/bin/mutmut results` / `mutmut show NAME` afterwards. See docs/reliability.md.
mutation: $(STAMP) redis-server
	@scripts/mutmut-run.sh $(MODULES)
