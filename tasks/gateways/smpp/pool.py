"""One bind per account per process, shared by the concurrent worker's threads.

The pool (:class:`~wrappers.per_process.PerProcess`) is keyed by the bind's parameters
(:attr:`BindConfig.fingerprint`, the password hashed in), so a changed password binds anew. A
process forked from one that held binds (rq's work horse) starts with an empty pool: the
parent's sockets are closed in the child without an unbind, which would end the parent's
session. Binds are unbound at exit.
"""

from __future__ import annotations

import atexit
import threading

from tasks.gateways.smpp.account import BindConfig
from tasks.gateways.smpp.bind import Bind
from wrappers.per_process import PerProcess


def _forget_in_child(bind: Bind) -> None:
    """After a fork: the parent's binds are not ours to use (nor to unbind)."""
    bind.stopped.set()
    bind.lock = threading.Lock()
    bind.drop()


_binds: PerProcess[str, Bind] = PerProcess(forget=_forget_in_child)


def bind_for(config: BindConfig, address: str, timeout: float) -> Bind:
    """This process's bind for ``config``, created (not yet opened) on first use."""
    return _binds.get(f"{config.fingerprint}|{address}", lambda: Bind(config, address, timeout))


def close_all() -> None:
    """Unbind and forget every bind of this process (at exit; tests between cases)."""
    for bind in _binds.pop_all():
        bind.close()


atexit.register(close_all)
