"""Job timeouts for jobs that run on threads: one watchdog thread for every job of the process.

rq's ``TimerDeathPenalty`` starts a ``threading.Timer`` (a new thread) per job; at hundreds of
jobs a second that is a thread start and join per job. Here one thread keeps the deadlines in a
heap and, when one passes, raises rq's ``JobTimeoutException`` in that job's thread (as rq does,
through ``PyThreadState_SetAsyncExc``). Like rq's, it interrupts Python code, not a blocking C
call: a job blocked in a socket read is interrupted when the read returns, so network calls keep
their own timeouts.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rq.timeouts import JobTimeoutException


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    target = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target)


class Deadlines:
    """Deadlines of the jobs in flight, watched by one daemon thread."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, int] = {}  # token -> thread id
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._watch, name="fusion-deadlines", daemon=True)
        self._thread.start()

    @contextmanager
    def limit(self, seconds: float | None, job_id: str) -> Iterator[None]:
        """Raise ``JobTimeoutException`` in this thread if the block runs past ``seconds``
        (None or a negative value: no limit)."""
        if seconds is None or seconds < 0:
            yield
            return
        token = self._arm(seconds)
        try:
            yield
        except JobTimeoutException as exc:
            raise JobTimeoutException(f"Task exceeded maximum timeout value ({seconds} seconds)") from exc
        finally:
            self._disarm(token)

    def _arm(self, seconds: float) -> int:
        token = next(self._tokens)
        with self._wake:
            self._armed[token] = threading.get_ident()
            heapq.heappush(self._heap, (time.monotonic() + seconds, token))
            if self._heap[0][1] == token:
                self._wake.notify()
        return token

    def _disarm(self, token: int) -> None:
        with self._wake:
            thread_id = self._armed.pop(token, None)
            if len(self._heap) > 2 * len(self._armed) + 64:  # drop the deadlines of ended jobs
                self._heap = [entry for entry in self._heap if entry[1] in self._armed]
                heapq.heapify(self._heap)
            if token in self._fired:
                self._fired.discard(token)
                if thread_id is not None:
                    _raise_in(thread_id, None)  # cancel an exception not yet delivered

    def _watch(self) -> None:
        with self._wake:
            while not self._stopped:
                if not self._heap:
                    self._wake.wait()
                    continue
                due, token = self._heap[0]
                left = due - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._heap)
                thread_id = self._armed.get(token)
                if thread_id is not None:
                    self._fired.add(token)
                    _raise_in(thread_id, JobTimeoutException)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
