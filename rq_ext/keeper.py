"""The lease keeper: a small process that renews the leases of a worker's claims.

A concurrent worker running 64 CPU-bound jobs starves its own threads of the interpreter lock:
its housekeeper could not renew a lease for longer than the lease itself, so a live worker's
jobs were recovered and run twice. The keeper runs beside it in a process of its own (no shared
interpreter lock): every ``CLAIM_LEASE / 4`` it renews every claim whose job hash names its
worker (``worker_name``, written by the claim) and is not finished — one Lua call.

It is a fresh interpreter (``python -m rq_ext.keeper``, the settings as JSON on its stdin), not a
bare ``fork()`` of the worker: a fork of a process with threads (job threads, the sender, the
housekeeper, Sentry's transport) inherits every lock another thread held at that instant, and a
keeper that blocked on one renewed nothing while looking alive. Its Redis calls time out after a
quarter of the lease, so a hung call never outlasts a lease either.

It dies with its worker: the kernel kills it when the worker dies (``PR_SET_PDEATHSIG``), it
checks its parent before each renewal, and the worker stops it at teardown; the worker's
housekeeper starts a new one if it ever exits. A worker that hangs keeps its leases, as with the
housekeeper; each job's own timeout bounds that.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from config import Settings
from rq_ext import contract, scripts
from rq_ext.connection import redis_from_settings

# KEYS: claims. ARGV: worker name, lease seconds. Extends (never shortens), on Redis' clock, the
# lease of every claim whose job names that worker. Returns how many were renewed.
RENEW_OWNED = (
    scripts.NOW_FN
    + """
local expiry = server_now() + tonumber(ARGV[2])
local renewed = 0
local claims = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #claims, 2 do
  local id, score = claims[i], tonumber(claims[i + 1])
  local fields = redis.pcall('HMGET', '@JOB_PREFIX@' .. id, 'worker_name', 'status')
  local owner, status = false, false
  if fields['err'] == nil then owner, status = fields[1], fields[2] end
  if owner == ARGV[1] and status ~= 'finished' and status ~= 'failed' and status ~= 'scheduled'
      and score < expiry then
    redis.call('ZADD', KEYS[1], 'XX', expiry, id)
    renewed = renewed + 1
  end
end
return renewed
"""
)
RENEW_OWNED = scripts.with_contract(RENEW_OWNED)

PR_SET_PDEATHSIG = 1


log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


class LeaseKeeper:
    """Starts, watches and stops the keeper process of one worker."""

    def __init__(self, settings: Settings, worker_name: str) -> None:
        self.settings = settings
        self.worker_name = worker_name
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # the housekeeper's restart never races a stop
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self) -> None:
        with self._lock:
            self._stopped = False
            self._start()

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "rq_ext.keeper", self.worker_name, str(os.getpid())]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        _hand_over(process.stdin, self.settings)
        self.process = process

    def ensure_running(self) -> None:
        """Start a new keeper if this one exited (a housekeeping chore); never after a stop."""
        with self._lock:
            if self._stopped or self.process is None or self.process.poll() is None:
                return
            log.warning("lease keeper of %s exited (%s): starting another", self.worker_name, self.process.returncode)
            self._start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            process, self.process = self.process, None
        if process is None:
            return
        try:
            process.kill()
            process.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def _hand_over(stdin: IO[bytes] | None, settings: Settings) -> None:
    """The settings as JSON on the keeper's stdin (never on its command line: the Redis URL may
    hold a password)."""
    if stdin is None:
        return
    try:
        stdin.write(json.dumps(dataclasses.asdict(settings)).encode())
        stdin.close()
    except OSError:  # the keeper died at once: the housekeeper starts another
        pass


def main(argv: list[str]) -> None:
    """``python -m rq_ext.keeper <worker name> <worker pid>``, the settings on stdin."""
    worker_name, parent = argv[0], int(argv[1])
    settings = Settings(**json.loads(sys.stdin.buffer.read() or b"{}"))
    _keep(settings, worker_name, parent)


def _keep(settings: Settings, worker_name: str, parent: int) -> Any:
    """The keeper's loop; it only ever leaves through ``os._exit``."""
    code = 0
    try:
        _die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        every = max(0.5, settings.CLAIM_LEASE / 4)
        connection = redis_from_settings(settings, timeout=every)
        failing_since: float | None = None
        while os.getppid() == parent:
            try:
                scripts.run(connection, RENEW_OWNED, [contract.CLAIMS], [worker_name, settings.CLAIM_LEASE])
                if failing_since is not None:
                    _say(f"lease keeper of {worker_name}: renewing again")
                failing_since = None
            except Exception as exc:  # Redis unreachable: try again at the next beat
                if failing_since is None:
                    failing_since = time.monotonic()
                    _say(f"lease keeper of {worker_name}: renewal failed ({type(exc).__name__}), retrying")
                elif time.monotonic() - failing_since > settings.WORKER_TTL:
                    raise  # the worker's own registration has expired too; its housekeeper restarts us
            time.sleep(every)
    except BaseException as exc:
        _say(f"lease keeper of {worker_name} stopped: {type(exc).__name__}: {exc}")
        code = 1
    os._exit(code)


def _say(line: str) -> None:
    """One line on stderr (the worker's log): the keeper leaves the logging machinery alone."""
    try:
        os.write(2, (line + "\n").encode())
    except OSError:
        pass


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the parent check in the loop remains


if __name__ == "__main__":
    main(sys.argv[1:])
