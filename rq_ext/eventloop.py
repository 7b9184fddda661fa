"""The event-loop worker (``--worker-class async``): up to ``--concurrency`` jobs at once, into
the thousands, on one asyncio loop (uvloop) in one process.

It is the concurrent worker (:mod:`rq_ext.concurrent`) with another runner, its claims and its
finishes on the event loop through its own Redis client (:mod:`rq_ext.resp`; redis-py's asyncio
client with ``ASYNC_REDIS_CLIENT=redis-py``): the same batched
``CLAIM`` script, each claimed job started as a task at once (:mod:`rq_ext.loop_claim`), and the
same batched ``FINISH`` script with the outbox entries (:mod:`rq_ext.loop_finish`). rq's
``work()`` loop, the lease keeper, recovery, reconciliation after a lost claim reply, the failure
path, the middleware, warm and cold shutdown are the concurrent class's, unchanged. Where a job
runs differs:

- a job whose function has a sans-I/O plan (:mod:`rq_ext.sansio`: the webhook channel, the
  channels converted so far, the bench's no-op) runs as a task on the loop: its requests go
  through the loop's HTTP client (:func:`wrappers.loop_http.open_transport`, at most
  ``concurrency`` exchanges at once; ``ASYNC_HTTP_CLIENT``), its ledger records through one batched writer on the loop
  (:class:`rq_ext.aio.LedgerWriter`, redis-py's asyncio client with hiredis),
  its blocking calls (:class:`~rq_ext.sansio.Call`) on the thread pool; its deadline is
  watched by one sweep of the loop (rq's ``JobTimeoutException`` when it passes, as on the
  other classes);
- any other job (a plan-less channel: e-mail through boto3, push; a job function of a user's)
  runs on a bounded thread pool (``ASYNC_BLOCKING_THREADS``), exactly as a job thread of the
  concurrent class runs it (its deadline through :class:`~rq_ext.deadlines.Deadlines`);
- a failure's bookkeeping (classification, the outcome step, the outbox entries) runs on a
  bookkeeping thread, so that a slow Redis never stalls the loop.

docs/performance.md measures it.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import uvloop
from rq.job import Job
from rq.queue import Queue
from rq.timeouts import JobTimeoutException

from config import ASYNC_CONCURRENCY
from rq_ext import sansio
from rq_ext.aio import Drivers, LedgerWriter, LoopDeadlines, drive
from rq_ext.loop_claim import LoopClaiming
from rq_ext.loop_finish import LoopFinisher
from rq_ext.resp import loop_client
from rq_ext.sansio import Plan
from wrappers.loop_http import open_transport

#: Threads that run failures' bookkeeping.
BOOKKEEPING_THREADS = 2
#: Longest warm shutdown waits for the loop's jobs before it stops the loop anyway.
DRAIN_TIMEOUT = 3600.0


@dataclass(frozen=True, slots=True)
class Opening:
    """How a job's start left it: its plan and the plan's first effect, begun at ``began``
    (loop time); its plan ended (``done``, with its return ``value``); no plan (it runs on a
    thread); or the error its plan or its start raised (``failure``)."""

    steps: Plan[Any] | None = None
    effect: Any = None
    began: float = 0.0
    failure: Any = None
    done: bool = False
    value: Any = None


class FusionAsyncWorker(LoopClaiming):
    """Runs up to ``concurrency`` jobs at once on one event loop."""

    kind = "async"

    def __init__(self, queues: Any, *args: Any, concurrency: int = ASYNC_CONCURRENCY, **kwargs: Any) -> None:
        super().__init__(queues, *args, concurrency=concurrency, **kwargs)
        self.blocking_threads = max(1, min(concurrency, self.settings.ASYNC_BLOCKING_THREADS))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._aredis = None
        self._alive: set[asyncio.Task[None]] = set()
        self.drivers: Drivers | None = None
        self._blocking: ThreadPoolExecutor | None = None
        self._bookkeeping: ThreadPoolExecutor | None = None
        self._deadlines: LoopDeadlines | None = None
        self._planners: dict[str, sansio.PlanFn | None] = {}

    # -- the runner ----------------------------------------------------------------------------

    def _start_runners(self) -> None:
        self._loop = uvloop.new_event_loop()
        self._deadlines = LoopDeadlines(self._loop)
        self._blocking = ThreadPoolExecutor(self.blocking_threads, thread_name_prefix="fusion-blocking")
        self._bookkeeping = ThreadPoolExecutor(BOOKKEEPING_THREADS, thread_name_prefix="fusion-bookkeeping")
        self._aredis = loop_client(self.connection, self.settings.ASYNC_REDIS_CLIENT)
        ledger = LedgerWriter(self._aredis, self.settings)
        self.drivers = Drivers(
            open_transport(self.settings.ASYNC_HTTP_CLIENT, self.concurrency), ledger, self._blocking, self._aredis
        )
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="fusion-event-loop", daemon=True)
        self._loop_thread.start()

    def _stop_runners(self) -> None:
        """End the claim loop, let every job in flight end (warm shutdown, burst end), then stop
        the event loop."""
        loop, thread = self._loop, self._loop_thread
        if loop is None or thread is None:
            return
        self._stop_claiming()
        with self._freed:
            self._freed.wait_for(lambda: self._running == 0, timeout=DRAIN_TIMEOUT)
        closing = asyncio.run_coroutine_threadsafe(self._close_clients(), loop)
        try:
            closing.result(10)
        except Exception:
            self.log.warning("Worker %s: the HTTP pool or the Redis client did not close cleanly", self.name)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        for pool in (self._blocking, self._bookkeeping):
            if pool is not None:
                pool.shutdown(wait=True)
        self._loop = self._loop_thread = None

    async def _close_clients(self) -> None:
        try:
            await self._drivers().close()
            if isinstance(self.finisher, LoopFinisher):
                await self.finisher.close()
        finally:
            if self._aredis is not None:
                await self._aredis.aclose()

    def _new_finisher(self) -> LoopFinisher:
        """Finishes written on the loop (called after :meth:`_start_runners`)."""
        assert self._aredis is not None and self._loop is not None
        worker = (self.key, self.name)
        return LoopFinisher(self._aredis, self._loop, worker, self._forget, self.sender.wake, self.settings)

    def _start_task(self, job: Job, queue: Queue) -> None:
        """Start a claimed job (called on the loop): its before-hooks and its plan up to the
        plan's first effect run right here, as an eager task of Python 3.12 starts; a plan that
        needs no effect ends here, with no task at all. The rest runs as a task, in the same
        context (the job's log context)."""
        assert self._loop is not None
        context = contextvars.copy_context()
        rest = context.run(self._open, job, queue)
        if rest is not None:
            task = self._loop.create_task(rest, context=context)
            self._alive.add(task)
            task.add_done_callback(self._alive.discard)

    def _open(self, job: Job, queue: Queue) -> Coroutine[Any, Any, None] | None:
        """The job's start: None once it ended here, else the coroutine that runs the rest."""
        started = time.time()
        try:
            self.hooks.before(job, queue.name)
            opening = self._first_step(job)
            if not opening.done:
                return self._run_async(job, queue, started, opening)
            self._succeed(job, queue, opening.value)
        except BaseException:
            self.log.exception("Worker %s: job %s crashed its start", self.name, job.id)
        self._ended(job, queue, started)
        return None

    def _first_step(self, job: Job) -> Opening:
        """The job's plan run up to its first effect (or to its end)."""
        assert self._loop is not None
        try:
            steps = self._plan_of(job)
        except Exception:
            return Opening(failure=sys.exc_info())
        if steps is None:  # no sans-I/O form: on a thread, as the concurrent class runs it
            return Opening()
        began = self._loop.time()
        try:
            effect = next(steps)
        except StopIteration as stop:
            self._held(self._loop.time() - began)
            return Opening(done=True, value=stop.value)
        except Exception:
            self._held(self._loop.time() - began)
            return Opening(failure=sys.exc_info())
        return Opening(steps, effect, began)

    # -- running a job on the loop -------------------------------------------------------------

    async def _run_async(self, job: Job, queue: Queue, started: float, opening: Opening) -> None:
        try:
            await self._perform_async(job, queue, opening)
        except BaseException:
            self.log.exception("Worker %s: job %s crashed its task", self.name, job.id)
        finally:
            self._ended(job, queue, started)

    async def _perform_async(self, job: Job, queue: Queue, opening: Opening) -> None:
        loop = asyncio.get_running_loop()
        steps = opening.steps
        if opening.failure is not None:
            await loop.run_in_executor(self._bookkeeping, self._fail, job, queue, opening.failure)
            return
        if steps is None:
            await loop.run_in_executor(self._blocking, self._perform, job, queue)
            return
        seconds = job.timeout or self.settings.DEFAULT_JOB_TIMEOUT
        try:
            return_value = await self._within(seconds, drive(steps, self._drivers(), opening.effect))
        except Exception:
            self._held(loop.time() - opening.began)
            await loop.run_in_executor(self._bookkeeping, self._fail, job, queue, sys.exc_info())
        else:
            self._held(loop.time() - opening.began)
            self._succeed(job, queue, return_value)

    async def _within(self, seconds: float | None, steps: Any) -> Any:
        """Await ``steps`` within the job's deadline (None or negative: none); rq's
        ``JobTimeoutException`` when it passes (within :data:`rq_ext.aio.SWEEP` seconds)."""
        task = asyncio.current_task()
        if seconds is None or seconds < 0 or task is None or self._deadlines is None:
            return await steps
        self._deadlines.arm(task, seconds)
        try:
            return await steps
        except asyncio.CancelledError:
            if not self._deadlines.disarm(task):
                raise
            task.uncancel()
            raise JobTimeoutException(f"Task exceeded maximum timeout value ({seconds} seconds)") from None
        finally:
            self._deadlines.disarm(task)

    def _plan_of(self, job: Job) -> Plan[Any] | None:
        """The job's sans-I/O plan, or None when it has none (one ``task`` argument, no keyword
        arguments, and a function marked by :func:`rq_ext.sansio.plan`). A function's planner is
        looked up once (through ``job.func``: the allowlist, the import)."""
        name = job.func_name or ""
        if name not in self._planners:
            self._planners[name] = sansio.planner_of(job.func)
        planner = self._planners[name]
        if planner is None or job.kwargs or len(job.args) != 1:
            return None
        return planner(job.args[0], job)

    def _drivers(self) -> Drivers:
        assert self.drivers is not None
        return self.drivers
