#!/usr/bin/env bash
# Print a Redis URL to use: $REDIS_URL if set, else a Redis answering on localhost:6379, else a
# private redis-server started here (installed from Debian if missing) on port 6399.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${REDIS_URL:-}" ]; then echo "$REDIS_URL"; exit 0; fi
ping_redis() { .venv/bin/python -c "import redis,sys; redis.Redis(host='127.0.0.1', port=$1, socket_connect_timeout=1).ping()" 2>/dev/null; }
LOCAL_PORT="${FUSION_LOCAL_REDIS_PORT:-6379}"
if ping_redis "$LOCAL_PORT"; then echo "redis://127.0.0.1:$LOCAL_PORT/0"; exit 0; fi
PORT="${FUSION_PRIVATE_REDIS_PORT:-6399}"
if ! ping_redis $PORT; then
  if ! command -v redis-server >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing redis-server from Debian..." >&2
    $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq redis-server >&2
  fi
  mkdir -p .run
  redis-server --port $PORT --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$PWD/.run" --pidfile "$PWD/.run/redis.pid" --logfile "$PWD/.run/redis.log" >&2
  for _ in $(seq 50); do ping_redis $PORT && break; sleep 0.1; done
  echo "started a private redis-server on 127.0.0.1:$PORT (stop: make stop-redis)" >&2
fi
echo "redis://127.0.0.1:$PORT/0"
