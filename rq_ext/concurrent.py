"""The concurrent worker: up to ``concurrency`` jobs at once in one process, on threads, on the
lean Redis path.

Notification sends wait on the network, so threads overlap them well. rq's ``work()`` loop still
drives the worker; three of its seams change:

- ``dequeue_job_and_maintain_ttl`` claims as many jobs as there are free slots in one round trip
  (the ``CLAIM`` script, which also starts them: status, ``started_at``, ``rq:wip:<queue>``), and
  hands them to the loop one by one. It never claims more than it can start at once, so no
  claimed job waits in this process;
- ``execute_job`` runs the job on a thread between the middleware's hooks, under its own
  deadline (:mod:`rq_ext.deadlines`); a success goes to the :class:`~rq_ext.finisher.Finisher`
  (one script call finishes a batch, with the success callbacks' outbox entries) and a failure
  through the same ``handle_exception``/``handle_job_failure`` as every Fusion worker;
- warm shutdown waits for every job in flight and its finish; a cold stop puts the jobs in hand
  back into their queues.

Its leases are renewed by a :class:`~rq_ext.keeper.LeaseKeeper` process as well as by the
housekeeper thread: with every job thread busy on the CPU, the housekeeper alone could miss a
renewal. rq's execution records (``rq:execution:*``, ``rq:executions:*``) are not written by
this class.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from queue import SimpleQueue
from typing import Any

from rq.job import Job, JobStatus
from rq.job_lifecycle import format_exc_info
from rq.queue import Queue
from rq.utils import now, utcformat
from rq.worker import SimpleWorker, WorkerStatus

from rq_ext import contract, outcome, recovery, resilience
from rq_ext.deadlines import Deadlines
from rq_ext.finisher import Finisher, Finishing
from rq_ext.job import FusionJob
from rq_ext.keeper import LeaseKeeper
from rq_ext.worker import FusionWorkerMixin
from wrappers import sentry

#: With a deep backlog, wait this long at most for more free slots, to claim them together.
GATHER = 0.003
#: The longest a claim waits for more free slots (with a deep backlog).
GATHER_MAX = 0.02
#: How often the loop checks ``rq:suspended`` (rq checks once per job).
SUSPENSION_CHECK_EVERY = 1.0
#: Seconds between checks that the lease keeper still runs (a new one is started if not).
KEEPER_CHECK = 5.0


def gather_window(concurrency: int) -> float:
    """How long a claim waits for more free slots with a deep backlog: ``GATHER`` up to 64 slots,
    growing with the concurrency up to ``GATHER_MAX``. With many slots the slots are rarely what
    bounds the rate (the process's CPU is), so a few idle ones cost little, while claiming one or
    two jobs at a time spreads each claim's fixed script work over too few (commands per job at
    c=512 rose from 11.5 to 17.8 when claims came at once for each freed slot)."""
    return min(GATHER_MAX, GATHER * max(1.0, concurrency / 64))


class FusionConcurrentWorker(FusionWorkerMixin, SimpleWorker):
    """Runs up to ``concurrency`` jobs at once on a thread pool."""

    kind = "concurrent"

    def __init__(self, queues: Any, *args: Any, concurrency: int = 8, **kwargs: Any) -> None:
        super().__init__(queues, *args, **kwargs)
        if concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
        self.concurrency = concurrency
        self._tasks: SimpleQueue[tuple[Job, Queue] | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._freed = threading.Condition()
        self._wake_at = 1  # free slots that make a finishing job wake the loop
        self._ready: deque[tuple[FusionJob, Queue]] = deque()
        self._in_hand: dict[str, Job] = {}  # claimed until their finish is written
        self._deep_backlog = False
        self._claim_lost = False
        self._batches = 0
        self._exec_prefix = uuid.uuid4().hex[:8]
        self._state = ""
        self._suspension_checked = 0.0
        self.deadlines: Deadlines | None = None
        self.finisher: Finishing | None = None
        #: Renews this worker's leases from a process of its own (busy job threads starve ours).
        self.keeper = LeaseKeeper(self.settings, self.name)

    # -- lifecycle -------------------------------------------------------------------------

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        self._start_runners()
        self.deadlines = Deadlines()
        self.finisher = self._new_finisher()
        try:
            super().bootstrap(*args, **kwargs)
            self.keeper.start()  # after register_birth: the name is this worker's now
            self.housekeeper.add_chore(KEEPER_CHECK, self.keeper.ensure_running)
        except BaseException:  # rq's work() calls teardown only after a bootstrap that worked
            self._stop_threads()
            raise

    def _new_finisher(self) -> Finishing:
        return Finisher(self.connection, self.key, self.name, self._forget, self.sender.wake)

    def teardown(self) -> None:
        """Warm shutdown and burst end: wait for every job in flight and its finish first."""
        self._stop_threads()
        self._release_jobs([job.id for job, _ in self._ready])
        self._ready.clear()
        super().teardown()

    def _start_runners(self) -> None:
        """Start what runs the jobs: ``concurrency`` job threads."""
        self._threads = [
            threading.Thread(target=self._serve, name=f"fusion-job-{n}", daemon=True) for n in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def _stop_runners(self) -> None:
        """Let every job in flight end, then stop the job threads."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _stop_threads(self) -> None:
        self._stop_runners()
        if self.finisher is not None:
            self.finisher.stop()
        if self.deadlines is not None:
            self.deadlines.stop()
        self.keeper.stop()

    def _shutdown(self) -> None:
        """A warm stop never interrupts the loop mid-claim: it stops at the next turn."""
        self._stop_requested = True
        self.set_shutdown_requested_date()
        self.log.info("Worker %s: warm shut down requested, finishing %d jobs", self.name, self._running)

    def request_force_stop(self, signum: int, frame: Any) -> None:
        """Cold stop: finishes already done are written; every other job in hand goes back to its
        queue; the process exits now."""
        if self._signal_repeated_too_soon():
            return
        self._cold_stop = True
        if self.finisher is not None:
            self.finisher.stop(timeout=2.0)
        self.keeper.stop()
        self._release_jobs(self.jobs_in_hand())
        self.housekeeper.stop()
        self.register_death()
        sentry.flush()
        os._exit(0)

    def jobs_in_hand(self) -> list[str]:
        return list(self._in_hand.copy())

    def is_alive(self) -> bool:
        return bool(self._in_hand) or super().is_alive()

    def _forget(self, job_id: str) -> None:
        self._in_hand.pop(job_id, None)

    # -- the loop's seams ----------------------------------------------------------------------

    def check_for_suspension(self, burst: bool) -> None:
        if time.monotonic() - self._suspension_checked >= SUSPENSION_CHECK_EVERY:
            self._suspension_checked = time.monotonic()
            super().check_for_suspension(burst)

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        """The next claimed job; claims a batch (one per free slot) when none is left in hand."""
        if self._ready:
            return self._ready.popleft()
        idle_since = time.monotonic()
        while not self._stop_requested:
            free = self._wait_for_free_slots()
            if self._claim_lost:
                self._reconcile()
            jobs = resilience.tolerate_outage(lambda: self._claim(free), "claim", None)  # noqa: B023
            if jobs is None:  # Redis unreachable: back off like rq's loop does
                self._claim_lost = True  # the script may have run and its reply been lost
                time.sleep(1.0)
                continue
            if jobs:
                self._ready.extend(jobs[1:])
                return jobs[0]
            if timeout is None:  # burst: the queues are empty
                return None
            if max_idle_time is not None and time.monotonic() - idle_since >= max_idle_time:
                return None
            if not self._in_hand:
                self._set_state(WorkerStatus.IDLE)
            self.heartbeat()
            resilience.tolerate_outage(
                lambda: self.queue_class.wait_for_jobs(
                    self.connection, self._ordered_queues, self.settings.POLL_INTERVAL
                ),
                "wait for jobs",
                None,
            )
        return None

    def _reconcile(self) -> None:
        """After a claim whose reply was lost: claims naming this worker that it does not hold
        go back into their queue (the lease keeper would renew them for ever)."""
        released = resilience.tolerate_outage(
            lambda: recovery.release_owned(self.connection, self.name, self.jobs_in_hand()), "reconcile", None
        )
        if released is None:
            return
        self._claim_lost = False
        for job_id in released:
            self.log.warning("Worker %s: job %s claimed during an outage put back into its queue", self.name, job_id)

    def _claim(self, count: int) -> list[tuple[FusionJob, Queue]]:
        started, start = self._start_args()
        claim = self.queue_class.claim
        jobs = claim(self._ordered_queues, self.connection, self.job_class, self.serializer, count, self.name, start)
        self._took(jobs, count, started)
        if jobs:
            self._set_state(WorkerStatus.BUSY)
        return jobs

    def _start_args(self) -> tuple[datetime, list[Any]]:
        """When this claim starts its jobs, and the claim script's ``start`` arguments."""
        self._batches += 1
        started = now()
        timeout = self.settings.DEFAULT_JOB_TIMEOUT
        return started, [utcformat(started), started.timestamp(), timeout, f"{self._exec_prefix}.{self._batches}."]

    def _took(self, jobs: list[tuple[FusionJob, Queue]], count: int, started: datetime) -> None:
        """The claimed jobs are this worker's, started at ``started``, in hand until finished."""
        self._deep_backlog = len(jobs) >= count
        for job, _ in jobs:
            job.started_at = job.last_heartbeat = started
            job.worker_name = self.name
            job._status = JobStatus.STARTED
            self._in_hand[job.id] = job

    def _wait_for_free_slots(self) -> int:
        """Block until a slot is free (heartbeating meanwhile); with a deep backlog, wait a few
        ms more for others, so that one claim takes several jobs. Returns the free slots."""
        enough = max(1, self.concurrency // 8) if self._deep_backlog else 1
        with self._freed:
            while self._running >= self.concurrency:
                if not self._freed.wait(timeout=5):
                    self.heartbeat()
            if self.concurrency - self._running < enough:
                self._wake_at = enough  # job threads wake this one only once that many are free
                window = gather_window(self.concurrency)
                self._freed.wait_for(lambda: self.concurrency - self._running >= enough, timeout=window)
                self._wake_at = 1
            return self.concurrency - self._running

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            resilience.tolerate_outage(lambda: self.set_state(state), "worker state", None)

    def get_state(self) -> str:
        return WorkerStatus.BUSY if self._in_hand else WorkerStatus.IDLE

    # -- running a job -------------------------------------------------------------------------

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Hand the job to a thread (a slot is free: it was claimed for one)."""
        with self._freed:
            self._running += 1
        self._tasks.put((job, queue))

    def _serve(self) -> None:
        """A job thread: runs the jobs handed to it until told to stop (None)."""
        while (task := self._tasks.get()) is not None:
            self._run(*task)

    def _run(self, job: Job, queue: Queue) -> None:
        started = time.time()
        try:
            self.hooks.before(job, queue.name)
            self._perform(job, queue)
        except BaseException:
            self.log.exception("Worker %s: job %s crashed its thread", self.name, job.id)
        finally:
            self._ended(job, queue, started)

    def _ended(self, job: Job, queue: Queue, started: float) -> None:
        """After a job's outcome: the after-hooks, and its slot freed."""
        self.hooks.after(job, queue.name, self._outcome_of(job), time.time() - started)
        with self._freed:
            self._running -= 1
            if self._claimer_waits_for_this():
                self._freed.notify_all()  # the claim loop; a warm stop of the event-loop class

    def _claimer_waits_for_this(self) -> bool:
        """Whether the slots free now are what the claim loop waits for (all of them, or
        ``_wake_at``); called as a job ends."""
        return self._running == 0 or self.concurrency - self._running >= self._wake_at

    def _perform(self, job: Job, queue: Queue) -> None:
        assert self.deadlines is not None
        try:
            with self.deadlines.limit(job.timeout or self.settings.DEFAULT_JOB_TIMEOUT, job.id):
                return_value = job.perform()
        except BaseException:
            self._fail(job, queue, sys.exc_info())
        else:
            self._succeed(job, queue, return_value)

    def _succeed(self, job: Job, queue: Queue, return_value: Any) -> None:
        assert self.finisher is not None and isinstance(job, FusionJob)
        job.ended_at = now()
        job._status = JobStatus.FINISHED
        job._result = return_value
        decision = outcome.decide_success(job)
        job.run.outcome = decision.outcome
        entry = decision.entries[0] if decision.entries else None
        self.finisher.submit(job, queue.name, job.get_result_ttl(self.default_result_ttl), entry)

    def _fail(self, job: Job, queue: Queue, exc_info: Any) -> None:
        job.ended_at = now()
        job._status = JobStatus.FAILED
        try:
            self.handle_exception(job, *exc_info)
            self.handle_job_failure(job, queue, exc_string=format_exc_info(exc_info))
        finally:
            self._forget(job.id)

    def cleanup_execution(self, job: Job, pipeline: Any, execution: Any = None) -> None:
        """The ``rq:wip`` entry the claim script wrote, the claim and the outcome's writes."""
        entry = getattr(job, "wip_entry", None)
        if entry:
            pipeline.zrem(contract.WIP_PREFIX + job.origin, entry)
        self.end_claim(job, pipeline)
