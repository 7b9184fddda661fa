"""Claiming on the event loop: the event-loop class's claims go through redis-py's asyncio client
on the loop that runs the jobs, so a freed slot is claimed again and its job started without a
hand-over between threads.

rq's ``work()`` loop still drives the worker's life on the main thread (bootstrap, signals,
suspension, heartbeats, ``--max-jobs``, teardown); one claim loop on the event loop does what
the concurrent class's ``dequeue_job_and_maintain_ttl`` does on the main thread:

- it waits for free slots (with a deep backlog, a few ms more, to claim several in one call),
  claims them in one ``CLAIM`` script call, and starts each job as a task at once;
- while Redis is unreachable it backs off, and reconciles afterwards (a claim whose reply was
  lost puts its jobs back into their queue), as the concurrent class does;
- it pauses while rq's workers are suspended, waits for a producer's wake-up token when the
  queues are empty, ends when they are empty in burst mode, after ``max_idle_time``, after
  ``--max-jobs`` jobs, and on a warm stop;
- it tells the main thread of every batch it started (rq counts them: ``--max-jobs``), and
  that it ended (rq's loop then tears the worker down, waiting for the jobs in flight).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
import time
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any

from rq.job import Job
from rq.queue import Queue
from rq.suspension import WORKERS_SUSPENDED
from rq.worker import Worker, WorkerStatus

from rq_ext.concurrent import SUSPENSION_CHECK_EVERY, FusionConcurrentWorker, gather_window
from rq_ext.job import FusionJob
from rq_ext.resilience import REDIS_DOWN

if TYPE_CHECKING:
    from redis.asyncio import Redis as AsyncRedis

log = logging.getLogger(__name__)

#: Seconds the main thread waits for a batch before it heartbeats.
BEAT_WAIT = 1.0
#: Seconds the claim loop backs off while Redis is unreachable.
OUTAGE_PAUSE = 1.0
#: Longest a warm stop waits for the claim loop to end.
CLAIMER_STOP = 30.0
#: With a deep backlog of plans that wait on I/O (a mean time in their slot of at least
#: ``HELD_IO`` seconds), a claim waits for more free slots at most ``GATHER_SHARE`` of that
#: mean: the slots it leaves idle meanwhile cost about that share of the rate. Shorter jobs
#: bound the process's CPU, not its slots, and a claim of more jobs at a time costs less of it.
GATHER_SHARE = 0.02
HELD_IO = 0.005
#: Weight of the latest job in that mean (an exponentially weighted moving average).
HELD_WEIGHT = 0.05

#: Most jobs in hand per slot: jobs that ended fast (plans with no effect) wait for their finish,
#: which is written at most ``MAX_BATCH`` per round trip; without a bound a claim of more jobs
#: than a finish takes left the finishes behind for good (195 MB over 60,000 no-op jobs).
HAND_LIMIT = 2

Batch = list[tuple[FusionJob, Queue]]
#: What rq's loop gets for each job the claim loop started (see ``dequeue_job_and_maintain_ttl``).
STARTED = (None, None)


def gather_for(concurrency: int, mean_held: float) -> tuple[int, float]:
    """With a deep backlog, how many free slots a claim waits for, and for how long at most:
    an eighth of them for :func:`gather_window` (3 ms up to 64 slots, growing to 20 ms) while
    the plans are short (CPU-bound: claiming more jobs per call saves CPU); for plans waiting on
    I/O (a mean time in their slot of ``HELD_IO`` or more), a thirty-second of them for at most
    ``GATHER_SHARE`` of that mean (webhooks of 50 ms: 1 ms; the 3 ms wait for 8 of 64 slots left
    ~5 % of them idle: `python -m bench.run --only io --match Async`, three paired rounds,
    1,033 -> 1,115 jobs/s at c=64, 1,640 -> 1,939 at c=128, docs/performance.md)."""
    if mean_held >= HELD_IO:
        return max(1, concurrency // 32), min(gather_window(concurrency), GATHER_SHARE * mean_held)
    return max(1, concurrency // 8), gather_window(concurrency)


class LoopClaiming(FusionConcurrentWorker):
    """The concurrent worker's claim loop, moved onto the event loop (see the module's text)."""

    _loop: asyncio.AbstractEventLoop | None
    _loop_thread: threading.Thread | None
    _aredis: AsyncRedis | None
    _bookkeeping: Executor | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batches_started: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._handed = 0  # jobs of the last batch rq's loop has not counted yet
        self._claimer: Future[None] | None = None
        self._claiming = True
        self._budget: int | None = None  # --max-jobs: jobs left to claim
        self._slot_freed = asyncio.Event()
        self._halted = asyncio.Event()
        self._suspended_at = 0.0
        self._suspended = False
        self._mean_held = 0.0  # seconds a plan holds its slot, on average (recent ones weigh most)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self._budget = inspect.signature(Worker.work).bind(self, *args, **kwargs).arguments.get("max_jobs")
        return super().work(*args, **kwargs)

    # -- the main thread: rq's loop ----------------------------------------------------------

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        """A job the claim loop started, for rq's loop to count (:data:`STARTED`: the job itself
        may have ended already, and rq's loop only hands it to :meth:`execute_job`, which does
        nothing; holding the jobs here until rq's thread counted them cost 100 MB over a backlog
        of 60,000 no-op jobs), or None once that loop ended."""
        if self._handed:
            self._handed -= 1
            return STARTED
        if self._claimer is None:
            assert self._loop is not None
            claiming = self._claim_forever(timeout is None, max_idle_time)
            self._claimer = asyncio.run_coroutine_threadsafe(claiming, self._loop)
        while True:
            try:
                batch = self._batches_started.get(timeout=BEAT_WAIT)
            except queue.Empty:
                if not self._in_hand:
                    self._set_state(WorkerStatus.IDLE)
                self.heartbeat()
                continue
            if batch is None:
                return None
            self._set_state(WorkerStatus.BUSY)
            self._handed = batch - 1
            return STARTED

    def execute_job(self, job: Job | None, queue: Queue | None) -> None:
        """Nothing: the claim loop started the job when it claimed it (``job`` is None)."""

    def _shutdown(self) -> None:
        super()._shutdown()
        self._halt_claimer()

    def _halt_claimer(self) -> None:
        """Tell the claim loop to end (from any thread)."""
        self._claiming = False
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._wake_claimer)

    def _wake_claimer(self) -> None:
        self._halted.set()
        self._slot_freed.set()

    def _stop_claiming(self) -> None:
        """Before the jobs in flight are drained: the claim loop has ended."""
        self._halt_claimer()
        if self._claimer is not None:
            try:
                self._claimer.result(CLAIMER_STOP)
            except Exception:
                self.log.exception("Worker %s: the claim loop did not end cleanly", self.name)

    # -- the event loop ----------------------------------------------------------------------

    def _held(self, seconds: float) -> None:
        """A plan held its slot ``seconds`` (plan-less jobs, which may queue for a thread of the
        blocking pool, are not counted)."""
        self._mean_held += HELD_WEIGHT * (seconds - self._mean_held)

    def _ended(self, job: Job, queue: Queue, started: float) -> None:
        super()._ended(job, queue, started)
        if self._claimer_waits_for_this():
            self._slot_freed.set()

    async def _claim_forever(self, burst: bool, max_idle_time: int | None) -> None:
        try:
            await self._claim_while_wanted(burst, max_idle_time)
        except Exception:
            self.log.exception("Worker %s: the claim loop failed; stopping", self.name)
        finally:
            self._batches_started.put(None)

    async def _claim_while_wanted(self, burst: bool, max_idle_time: int | None) -> None:
        idle_since = time.monotonic()
        while self._wanted():
            free = await self._free_slots()
            if not self._wanted() or free == 0:
                continue
            if await self._is_suspended():
                await self._pause(SUSPENSION_CHECK_EVERY)
                continue
            jobs = await self._claim_batch(free if self._budget is None else min(free, self._budget))
            if jobs is None:  # Redis unreachable
                await self._pause(OUTAGE_PAUSE)
            elif jobs:
                self._begin(jobs)
                idle_since = time.monotonic()
            elif burst or (max_idle_time is not None and time.monotonic() - idle_since >= max_idle_time):
                return
            else:
                await self._wait_for_jobs()

    def _wanted(self) -> bool:
        return self._claiming and not self._stop_requested and (self._budget is None or self._budget > 0)

    def _forget(self, job_id: str) -> None:
        super()._forget(job_id)
        if self._on_loop() and len(self._in_hand) < HAND_LIMIT * self.concurrency:
            self._slot_freed.set()  # a claim may wait for finishes to be written

    def _on_loop(self) -> bool:
        """Whether the caller runs on this worker's loop thread (an event is set only there)."""
        thread = self._loop_thread
        return thread is not None and thread.ident == threading.get_ident()

    async def _free_slots(self) -> int:
        """Wait until a slot is free, and until the jobs in hand (running, or ended with their
        finish not yet written) are fewer than ``HAND_LIMIT`` times the slots; with a deep
        backlog, until more slots are free, for a while (:func:`gather_for`)."""
        while self._wanted() and (
            self._running >= self.concurrency or len(self._in_hand) >= HAND_LIMIT * self.concurrency
        ):
            self._slot_freed.clear()
            await self._slot_freed.wait()  # a job ended, or the claim loop is halted
        if self._deep_backlog:
            await self._gather(*gather_for(self.concurrency, self._mean_held))
        return max(0, self.concurrency - self._running)

    async def _gather(self, enough: int, window: float) -> None:
        """Wait up to ``window`` seconds until ``enough`` slots are free (job tasks wake this
        loop only once that many are)."""
        if self.concurrency - self._running >= enough or window <= 0:
            return
        self._wake_at = enough
        self._slot_freed.clear()
        try:
            await asyncio.wait_for(self._slot_freed.wait(), window)
        except TimeoutError:
            pass
        finally:
            self._wake_at = 1

    async def _claim_batch(self, count: int) -> Batch | None:
        """Claim up to ``count`` jobs; None while Redis is unreachable."""
        assert self._aredis is not None and self._loop is not None
        if self._claim_lost:  # the script may have run and its reply been lost
            await self._loop.run_in_executor(self._bookkeeping, self._reconcile)
        started, start = self._start_args()
        queues, cls = self._ordered_queues, self.queue_class
        try:
            claiming = cls.claim_async(
                self._aredis, queues, self.connection, self.job_class, self.serializer, count, self.name, start
            )
            jobs = await claiming
        except REDIS_DOWN as exc:
            self.log.warning("Worker %s: Redis unreachable during claim (%s); going on", self.name, type(exc).__name__)
            self._claim_lost = True
            return None
        self._took(jobs, count, started)
        return jobs

    def _begin(self, jobs: Batch) -> None:
        """Start the claimed jobs as tasks, and tell rq's loop of them."""
        with self._freed:
            self._running += len(jobs)
        if self._budget is not None:
            self._budget -= len(jobs)
        for job, job_queue in jobs:
            self._start_task(job, job_queue)
        self._batches_started.put(len(jobs))

    async def _is_suspended(self) -> bool:
        """Whether rq's workers are suspended (``rq suspend``), read once a second at most."""
        assert self._aredis is not None
        if time.monotonic() - self._suspended_at >= SUSPENSION_CHECK_EVERY:
            self._suspended_at = time.monotonic()
            try:
                self._suspended = bool(await self._aredis.exists(WORKERS_SUSPENDED))
            except REDIS_DOWN:
                self._suspended = False  # the claim will meet the outage
        return self._suspended

    async def _wait_for_jobs(self) -> None:
        assert self._aredis is not None
        try:
            waiting = self.queue_class.wait_for_jobs_async(
                self._aredis, self._ordered_queues, self.settings.POLL_INTERVAL
            )
            await self._wake_on(waiting)
        except REDIS_DOWN as exc:
            self.log.warning("Worker %s: Redis unreachable during wait for jobs (%s)", self.name, type(exc).__name__)
            await self._pause(OUTAGE_PAUSE)

    async def _pause(self, seconds: float) -> None:
        await self._wake_on(asyncio.sleep(seconds))

    async def _wake_on(self, awaitable: Any) -> None:
        """Await ``awaitable``, or less if the claim loop is halted meanwhile."""
        waiting = asyncio.ensure_future(awaitable)
        halted = asyncio.ensure_future(self._halted.wait())
        try:
            await asyncio.wait({waiting, halted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            halted.cancel()
            if not waiting.done():
                waiting.cancel()
        if waiting.done() and not waiting.cancelled():
            waiting.result()  # its error, if any

    def _start_task(self, job: FusionJob, queue: Queue) -> None:
        raise NotImplementedError  # the event-loop class starts a job on its loop
