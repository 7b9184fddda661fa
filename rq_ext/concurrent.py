"""The concurrent worker: up to ``concurrency`` jobs at once in one process, on threads.

Notification sends wait on the network, so threads overlap them well. Each job keeps the full
lifecycle of the other worker classes (the same claim, started registry, timeout, retry,
callbacks and failed registry code): only *where* ``execute_job`` runs changes. The main loop
claims a job only when a slot is free, so no claimed job waits in this process; a job's timeout
(rq's ``TimerDeathPenalty``) interrupts only that job's thread. Warm shutdown waits for every
job in flight; a cold stop puts them all back into their queues and exits at once.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker

from rq_ext.worker import FusionWorkerMixin
from wrappers import sentry


class FusionConcurrentWorker(FusionWorkerMixin, SimpleWorker):
    """Runs up to ``concurrency`` jobs at once on a thread pool."""

    death_penalty_class = TimerDeathPenalty

    def __init__(self, queues: Any, *args: Any, concurrency: int = 8, **kwargs: Any) -> None:
        super().__init__(queues, *args, **kwargs)
        if concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fusion-job")

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Hand the job to a thread, then return once another slot is free."""
        self._slots.acquire()
        self._pool.submit(self._run, job, queue)
        self._wait_for_free_slot()

    def _run(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        except BaseException:
            self.log.exception("Worker %s: job %s crashed its thread", self.name, job.id)
        finally:
            self._slots.release()

    def _wait_for_free_slot(self) -> None:
        while not self._slots.acquire(timeout=5):
            self.heartbeat()
        self._slots.release()

    def teardown(self) -> None:
        """Warm shutdown and burst end: wait for every job in flight first."""
        self._pool.shutdown(wait=True)
        super().teardown()

    def request_force_stop(self, signum: int, frame: Any) -> None:
        """Cold stop: every job in flight goes back to its queue; the process exits now."""
        if self._signal_repeated_too_soon():
            return
        self._cold_stop = True
        self._release_jobs(self.jobs_in_hand())
        self.housekeeper.stop()
        self.register_death()
        sentry.flush()
        os._exit(0)
