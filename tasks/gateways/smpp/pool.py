"""One bind per account per process, shared by the concurrent worker's threads.

The pool is keyed by the process id and the bind's parameters (:attr:`BindConfig.fingerprint`,
the password hashed in), so a changed password binds anew. A process forked from one that held
binds (rq's work horse) starts with an empty pool: the parent's sockets are closed in the child
without an unbind, which would end the parent's session. Binds are unbound at exit.
"""

from __future__ import annotations

import atexit
import os
import threading

from tasks.gateways.smpp.account import BindConfig
from tasks.gateways.smpp.bind import Bind

_lock = threading.Lock()
_binds: dict[tuple[int, str], Bind] = {}


def bind_for(config: BindConfig, address: str, timeout: float) -> Bind:
    """This process's bind for ``config``, created (not yet opened) on first use."""
    key = (os.getpid(), f"{config.fingerprint}|{address}")
    with _lock:
        bind = _binds.get(key)
        if bind is None:
            bind = _binds[key] = Bind(config, address, timeout)
        return bind


def close_all() -> None:
    """Unbind and forget every bind of this process (at exit; tests between cases)."""
    with _lock:
        mine = [key for key in _binds if key[0] == os.getpid()]
        binds = [_binds.pop(key) for key in mine]
    for bind in binds:
        bind.close()


def _forget_in_child() -> None:
    """After a fork: the parent's binds are not ours to use (nor to unbind)."""
    global _lock
    _lock = threading.Lock()
    for bind in _binds.values():
        bind.stopped.set()
        bind.lock = threading.Lock()
        bind.drop()
    _binds.clear()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(close_all)
