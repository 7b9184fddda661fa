#!/usr/bin/env bash
# Print the Redis URL `make run` uses: $REDIS_URL when it is set explicitly, else this checkout's
# own private redis-server (127.0.0.1:$FUSION_PRIVATE_REDIS_PORT, default 6399, pid and log in
# $FUSION_RUN_DIR, default .run/),
# started here if it is not running (installed from Debian if missing). A Redis that merely
# answers on localhost is never used: it may hold real jobs, and the demo worker would drain them.
# Progress goes to stderr; only the URL goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${REDIS_URL:-}" ]; then
  echo "==> Redis: REDIS_URL is set; using it" >&2
  echo "$REDIS_URL"
  exit 0
fi
PORT="${FUSION_PRIVATE_REDIS_PORT:-6399}"
RUN="${FUSION_RUN_DIR:-$PWD/.run}"
# The pid of the redis-server answering on $PORT, or nothing when none answers.
answering_pid() {
  .venv/bin/python - "$PORT" <<'PY' 2>/dev/null
import sys, redis
info = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_connect_timeout=1, socket_timeout=2).info("server")
print(info["process_id"])
PY
}
ours() { [ -f "$RUN/redis.pid" ] && [ "$1" = "$(cat "$RUN/redis.pid")" ]; }
pid="$(answering_pid || true)"
if [ -n "$pid" ]; then
  if ours "$pid"; then
    echo "==> Redis: reusing this checkout's private redis-server on 127.0.0.1:$PORT (pid $pid)" >&2
    echo "redis://127.0.0.1:$PORT/0"
    exit 0
  fi
  echo "error: 127.0.0.1:$PORT answers, but it is not the private redis-server of make run (pid $pid);" \
       "refusing to use it: set FUSION_PRIVATE_REDIS_PORT to a free port, or REDIS_URL to use that Redis" >&2
  exit 1
fi
if ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "==> installing redis-server from Debian (apt-get)..." >&2
  $SUDO apt-get update >&2 && $SUDO apt-get install -y redis-server >&2
fi
mkdir -p "$RUN"
echo "==> Redis: starting a private redis-server on 127.0.0.1:$PORT (data in memory only; stop: make stop-redis)" >&2
redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
  --dir "$RUN" --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" >&2
for _ in $(seq 100); do
  pid="$(answering_pid || true)"
  if [ -n "$pid" ] && ours "$pid"; then break; fi
  sleep 0.1
done
if [ -z "$pid" ] || ! ours "$pid"; then
  echo "error: the private redis-server did not start on 127.0.0.1:$PORT (see $RUN/redis.log)" >&2
  exit 1
fi
echo "redis://127.0.0.1:$PORT/0"
