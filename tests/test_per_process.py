"""wrappers.per_process: objects made once per process; a forked child starts with none."""

from __future__ import annotations

import os

from wrappers.per_process import PerProcess


def test_made_once_capped_and_popped() -> None:
    made: list[str] = []
    cache: PerProcess[str, str] = PerProcess(cap=2)
    assert cache.get("a", lambda: made.append("a") or "A") == "A"
    assert cache.get("a", lambda: made.append("a") or "A") == "A"
    cache.get("b", lambda: "B")
    cache.get("c", lambda: "C")  # full: emptied before the third
    assert made == ["a"] and list(cache.items) == ["c"]
    assert cache.pop_all() == ["C"] and cache.items == {}


def test_a_forked_child_forgets_with_a_fresh_lock() -> None:
    forgotten: list[str] = []
    cache: PerProcess[str, str] = PerProcess(forget=forgotten.append)
    cache.get("a", lambda: "A")
    cache.lock.acquire()  # held by "another thread" at the fork
    pid = os.fork()
    if pid == 0:  # the child: exit status says what it saw
        ok = cache.items == {} and forgotten == ["A"] and cache.lock.acquire(timeout=1)
        os._exit(0 if ok else 1)
    cache.lock.release()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.items == {"a": "A"} and forgotten == []
