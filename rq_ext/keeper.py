"""The lease keeper: a small child process that renews the leases of a worker's claims.

A concurrent worker running 64 CPU-bound jobs starves its own threads of the interpreter lock:
its housekeeper could not renew a lease for longer than the lease itself, so a live worker's
jobs were recovered and run twice. The keeper runs beside it in a process of its own (no shared
interpreter lock): every ``CLAIM_LEASE / 4`` it renews every claim whose job hash names its
worker (``worker_name``, written by the claim) and is not finished — one Lua call.

It dies with its worker: the kernel kills it when the worker dies (``PR_SET_PDEATHSIG``), it
checks its parent before each renewal, and the worker stops it at teardown. A worker that hangs
keeps its leases, as with the housekeeper; each job's own timeout bounds that.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from typing import Any

from config import Settings
from rq_ext import contract, scripts
from rq_ext.connection import redis_from_settings

# KEYS: claims. ARGV: worker name, new lease expiry. Returns how many leases were renewed.
RENEW_OWNED = """
local renewed = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.pcall('HMGET', '@JOB_PREFIX@' .. id, 'worker_name', 'status')
  local owner, status = false, false
  if fields['err'] == nil then owner, status = fields[1], fields[2] end
  if owner == ARGV[1] and status ~= 'finished' and status ~= 'failed' and status ~= 'scheduled' then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id)
    renewed = renewed + 1
  end
end
return renewed
"""
RENEW_OWNED = scripts.with_contract(RENEW_OWNED)

PR_SET_PDEATHSIG = 1


class LeaseKeeper:
    """Starts and stops the keeper process of one worker."""

    def __init__(self, settings: Settings, worker_name: str) -> None:
        self.settings = settings
        self.worker_name = worker_name
        self.pid: int | None = None

    def start(self) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the keeper: never returns
            _keep(self.settings, self.worker_name, parent)
        self.pid = pid

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid = None


def _keep(settings: Settings, worker_name: str, parent: int) -> Any:
    """The keeper's loop (in the child; it only ever leaves through ``os._exit``)."""
    code = 0
    try:
        _die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        connection = redis_from_settings(settings)
        every = max(0.5, settings.CLAIM_LEASE / 4)
        while os.getppid() == parent:
            try:
                expiry = time.time() + settings.CLAIM_LEASE
                scripts.run(connection, RENEW_OWNED, [contract.CLAIMS], [worker_name, expiry])
            except Exception as exc:  # Redis unreachable: try again at the next beat
                _say(f"lease keeper of {worker_name}: renewal failed ({type(exc).__name__}), retrying")
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
