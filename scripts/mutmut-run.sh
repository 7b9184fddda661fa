#!/usr/bin/env bash
# Mutation testing of the core's outcome path, the webhook path and the SMS path's stable parts
# with mutmut (config: pyproject.toml [tool.mutmut]; results: docs/reliability.md).
#
#   scripts/mutmut-run.sh                 every module of only_mutate
#   scripts/mutmut-run.sh rq_ext.outcome  one module (mutmut's dotted names; globs allowed)
#
# One mutant at a time, at low priority (the machine is shared): --max-children 1, nice 10.
# mutmut runs each mutant's tests in a forked child; a child cut at its timeout leaves behind the
# redis-server its fixtures started, so the run is its own session and what is left of that
# session is stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
MUTMUT=.venv/bin/mutmut

run() {  # one mutmut run in its own session; then stop by pid whatever is left of that session
  setsid nice -n 10 "$MUTMUT" run --max-children 1 "$@" &
  local sid=$!
  wait "$sid" || echo "    mutmut exited with $?"
  local leftover
  leftover=$(ps -o pid= -s "$sid" 2>/dev/null || true)
  if [ -n "$leftover" ]; then kill $leftover 2>/dev/null || true; fi
}

if [ "$#" -eq 0 ]; then
  run  # every file of only_mutate
else
  for module in "$@"; do
    echo "==> mutmut: $module"
    run "${module}.*"
  done
fi
"$MUTMUT" results
