"""Objects a process keeps for itself (HTTP/2 clients, SMPP binds, per-key locks), fork-safe.

A forked child (rq's work horse) must not use what its parent made: a client or a bind shares its
socket with the parent, and a lock that another of the parent's threads held at the fork would
never be released. :class:`PerProcess` forgets its objects in the child (calling ``forget`` on
each, never a close that would talk on the parent's connection) and takes a fresh lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class PerProcess(Generic[K, V]):
    """A lock-guarded map of this process's objects, made on first use and empty after a fork."""

    def __init__(self, cap: int | None = None, forget: Callable[[V], object] | None = None) -> None:
        #: At most ``cap`` objects: when full, the map is emptied before the next one is made.
        self.cap = cap
        self.forget = forget
        self.items: dict[K, V] = {}
        self.lock = threading.Lock()
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The object for ``key``, made by ``make`` (under the lock) the first time."""
        with self.lock:
            item = self.items.get(key)
            if item is None:
                if self.cap is not None and len(self.items) >= self.cap:
                    self.items.clear()
                item = self.items[key] = make()
            return item

    def pop_all(self, keep: Callable[[K], bool] = lambda key: False) -> list[V]:
        """Remove and return every object (but those whose key ``keep`` accepts)."""
        with self.lock:
            gone = [key for key in self.items if not keep(key)]
            return [self.items.pop(key) for key in gone]

    def _after_fork_in_child(self) -> None:
        self.lock = threading.Lock()
        if self.forget is not None:
            for item in self.items.values():
                self.forget(item)
        self.items.clear()
