#!/usr/bin/env bash
# `make run`: enqueue one demo job per channel, run the worker on them in DRY_RUN, show the outcomes.
# `make worker` (BURST=0): the same, but the worker keeps running (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
export CRELIO_DEPLOYMENT_MODE="${CRELIO_DEPLOYMENT_MODE:-LOCAL}" CRELIO_DEPLOYMENT_ZONE="${CRELIO_DEPLOYMENT_ZONE:-IN}"
export DRY_RUN="${DRY_RUN:-1}"
REDIS_URL="$(scripts/ensure-redis.sh)"
export REDIS_URL
RUN="${FUSION_RUN_DIR:-$PWD/.run}"
mkdir -p "$RUN"
JOBS="$RUN/demo-jobs.json"
echo "==> enqueueing the demo batch (mode $CRELIO_DEPLOYMENT_MODE, DRY_RUN=$DRY_RUN)"
.venv/bin/python run_worker.py demo --save "$JOBS"
WORKER=(.venv/bin/python run_worker.py worker -c instance --customq all --log-format "${LOG_FORMAT:-text}")
if [ "${BURST:-1}" = "0" ]; then
  echo "==> running the worker (Ctrl-C to stop)"
  exec "${WORKER[@]}"
fi
echo "==> running the worker in burst mode (it quits when the queues are empty)"
status=0
"${WORKER[@]}" --burst || status=$?
echo
echo "==> demo jobs and their outcomes"
.venv/bin/python run_worker.py demo --report "$JOBS"
exit "$status"
