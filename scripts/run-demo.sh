#!/usr/bin/env bash
# `make run`: enqueue one demo job per channel and run the worker on them, in DRY_RUN.
set -euo pipefail
cd "$(dirname "$0")/.."
export CRELIO_DEPLOYMENT_MODE="${CRELIO_DEPLOYMENT_MODE:-LOCAL}" CRELIO_DEPLOYMENT_ZONE="${CRELIO_DEPLOYMENT_ZONE:-IN}"
export DRY_RUN="${DRY_RUN:-1}"
REDIS_URL="$(scripts/ensure-redis.sh)"
export REDIS_URL
echo "Redis: $REDIS_URL   mode: $CRELIO_DEPLOYMENT_MODE   DRY_RUN: $DRY_RUN"
.venv/bin/python run_worker.py demo
# BURST=0 keeps the worker running after the demo batch (stop it with Ctrl-C).
if [ "${BURST:-1}" = "0" ]; then
  exec .venv/bin/python run_worker.py worker -c instance --customq all --log-format "${LOG_FORMAT:-text}"
fi
exec .venv/bin/python run_worker.py worker -c instance --customq all --burst --log-format "${LOG_FORMAT:-text}"
