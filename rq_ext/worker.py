"""The workers: rq's ``Worker`` (forks a work horse per job) and ``SimpleWorker`` (runs the job
in-process), each extended through rq's seams only:

- ``queue_class``/``job_class`` forced to :class:`FusionQueue`/:class:`FusionJob`, whatever rq's
  CLI or pool passed, so no stock BLPOP ever runs on a sorted set;
- ``perform_job``: the staging rule before the job runs;
- ``handle_exception``: classify the exception (retryable or permanent);
- ``handle_job_failure``: retry through ``/retryTask/`` (or locally), else failure callback and
  the failed registry;
- ``handle_job_success``: release the claim, then the success callback;
- ``bootstrap``/``teardown``: the housekeeping thread (promotion, recovery, leases, maintenance);
- ``request_force_stop``: a cold stop puts the job in hand back into its queue.
"""

from __future__ import annotations

import importlib
import logging
import signal
import time
from datetime import timedelta
from typing import Any

from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.utils import now
from rq.worker import BaseWorker, SimpleWorker, Worker

from config import get_settings
from rq_ext import callbacks, contract, events, metrics, recovery, resilience, retry
from rq_ext.classify import Failure, classify, classify_exc_string
from rq_ext.housekeeper import Housekeeper
from rq_ext.job import FusionJob
from rq_ext.queue import FusionQueue
from rq_ext.schedule import promote_due, schedule_at
from wrappers import context, sentry, systemd

log = logging.getLogger(__name__)


#: Channel modules imported once at start, so that a forked work horse finds them loaded
#: (importing boto3 or google-auth in every horse would cost ~0.5 s per job).
CHANNEL_MODULES = ("tasks.sms", "tasks.email", "tasks.push_notification", "tasks.webhooks", "tasks.whatsapp")


def preload_channels() -> None:
    for name in CHANNEL_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a broken channel must not stop the others
            log.error("channel module %s failed to import: %s", name, exc)


#: Seconds between two heartbeats of the worker loop (rq would send several per job).
HEARTBEAT_EVERY = 10.0


class FusionWorkerMixin(BaseWorker):
    """Claim, retry, callback and recovery behaviour shared by every Fusion worker class."""

    queue_class = FusionQueue
    job_class = FusionJob
    #: True when the job runs in another process, so its outcome must be read back from Redis.
    status_is_remote = False

    def __init__(self, queues: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("log_job_description", False)
        super().__init__(queues, *args, **kwargs)
        self._adopt_fusion_classes()
        settings = get_settings()
        FusionQueue.claim_lease = settings.CLAIM_LEASE
        FusionQueue.poll_interval = settings.POLL_INTERVAL
        FusionQueue.DEFAULT_TIMEOUT = settings.DEFAULT_JOB_TIMEOUT
        self._cold_stop = False
        self.housekeeper = Housekeeper(self.connection, self.jobs_in_hand, self.is_alive)

    def _adopt_fusion_classes(self) -> None:
        """Undo a ``queue_class``/``job_class`` that rq's CLI or WorkerPool imposed."""
        if not (isinstance(self.queue_class, type) and issubclass(self.queue_class, FusionQueue)):
            self.queue_class = FusionQueue
        if not (isinstance(self.job_class, type) and issubclass(self.job_class, FusionJob)):
            self.job_class = FusionJob
        self.queues = [self._fusion_queue(q) for q in self.queues]
        self._ordered_queues = self.queues[:]

    def _fusion_queue(self, queue: Queue) -> Queue:
        if isinstance(queue, self.queue_class):
            return queue
        return self.queue_class(
            queue.name, connection=self.connection, job_class=self.job_class, serializer=self.serializer
        )

    def is_alive(self) -> bool:
        """For the systemd watchdog: the main loop heartbeated recently, or a job is in hand
        (a job's own timeout bounds it)."""
        last = self.last_heartbeat
        recent = last is not None and (now() - last).total_seconds() < self.worker_ttl
        return recent or bool(self.executions)

    def jobs_in_hand(self) -> list[str]:
        """Ids of the jobs this process is running now (``dict.copy`` is atomic under the GIL,
        so other threads may change the dict meanwhile)."""
        return [execution.job_id for execution in self.executions.copy().values()]

    def cleanup_execution(self, job: Job, pipeline: Any, execution: Execution | None = None) -> None:
        """rq's cleanup, plus the release of the claim, in the same pipelined round trip."""
        super().cleanup_execution(job, pipeline, execution)
        pipeline.zrem(contract.CLAIMS, job.id)

    # -- lifecycle -------------------------------------------------------------------------

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        context.set_worker(self.name)
        preload_channels()
        super().bootstrap(*args, **kwargs)
        promote_due(self.connection)
        recovery.recover_abandoned(self.connection)
        self.housekeeper.start()
        systemd.notify(f"READY=1\nSTATUS=listening on {','.join(self.queue_names())}")

    def teardown(self) -> None:
        if not self.is_horse:
            systemd.notify("STOPPING=1")
            self.housekeeper.stop()
            sentry.flush()
        super().teardown()

    def clean_registries(self) -> None:
        """Recover abandoned jobs before rq's started-registry cleanup could fail them."""
        recovery.recover_abandoned(self.connection)
        super().clean_registries()

    def request_force_stop(self, signum: int, frame: Any) -> None:
        """Cold stop: stop now and put the jobs in hand back into their queues."""
        if self._signal_repeated_too_soon():
            return
        self._cold_stop = True
        in_hand = self.jobs_in_hand()
        try:
            super().request_force_stop(signum, frame)
        finally:
            self._release_jobs(in_hand)

    def _signal_repeated_too_soon(self) -> bool:
        """rq ignores a second signal within 1 s of the first (duplicates from a process group)."""
        requested = self._shutdown_requested_date
        return requested is not None and now() - requested < timedelta(seconds=1)

    def _release_jobs(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            if recovery.release(self.connection, job_id):
                self.log.warning("Worker %s: job %s put back into its queue", self.name, job_id)

    # -- Redis outages: loop chores tolerate them, bookkeeping waits them out -----------------

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """rq heartbeats several times per job; the worker's registration lives ``worker_ttl``
        (420 s), so the loop's own beats are sent at most every ``HEARTBEAT_EVERY`` seconds."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline)
            return
        last = self.last_heartbeat
        if timeout is None and last is not None and (now() - last).total_seconds() < HEARTBEAT_EVERY:
            return
        else:
            resilience.tolerate_outage(lambda: super(FusionWorkerMixin, self).heartbeat(timeout), "heartbeat", None)

    def check_for_suspension(self, burst: bool) -> None:
        resilience.tolerate_outage(
            lambda: super(FusionWorkerMixin, self).check_for_suspension(burst), "suspension check", None
        )

    def run_maintenance_tasks(self) -> None:
        resilience.tolerate_outage(lambda: super(FusionWorkerMixin, self).run_maintenance_tasks(), "maintenance", None)

    # -- around the job ----------------------------------------------------------------------

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run the job with its log context bound; then one job event (log + metrics)."""
        labels = events.job_labels(job, queue.name)
        started = time.time()
        metrics.IN_FLIGHT.inc()
        try:
            with context.bound(**labels):
                super().execute_job(job, queue)
                events.emit(self.connection, job, labels, started, refresh=self.status_is_remote)
        finally:
            metrics.IN_FLIGHT.dec()

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        """rq's bookkeeping, without the LREM of an intermediate list that sorted-set queues never use."""
        super().prepare_job_execution(job, remove_from_intermediate_queue=False)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        self._apply_staging_rule(job)
        return super().perform_job(job, queue, execution)

    def _apply_staging_rule(self, job: Job) -> None:
        """The original's rule: a webhook URL containing ``staging`` gets ``retryCount += 10``,
        so it is never retried."""
        task = getattr(job, "task", None)
        payload = task.get("payload") if isinstance(task, dict) else None
        if (
            isinstance(payload, dict)
            and payload.get("task") == contract.WEBHOOK
            and "staging" in str(payload.get("url", ""))
        ):
            count = self.connection.hincrby(job.key, contract.RETRY_COUNT, 10)
            if isinstance(job, FusionJob):
                job.retry_count = int(count)

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        exc = exc_info[1] if len(exc_info) > 1 else None
        if not self._cold_stop and exc is not None:
            failure = classify(exc)
            job._fusion_failure = failure  # type: ignore[attr-defined]
            if failure.deferred is not None or (
                failure.retryable and self._retry_count(job) < get_settings().MAX_RETRIES
            ):
                sentry.mark_will_retry(exc)  # only final failures reach Sentry
        super().handle_exception(job, *exc_info)

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: Any = None,
        exc_string: str = "",
        execution: Execution | None = None,
    ) -> None:
        if self._cold_stop:
            self._forget_execution(job, execution)
            return
        failure = getattr(job, "_fusion_failure", None) or classify_exc_string(exc_string)
        if failure.deferred is not None:
            self._defer(job, failure, execution)
            return
        retry_count = self._retry_count(job)
        if failure.retryable and retry_count < get_settings().MAX_RETRIES:
            self._retry(job, failure, execution)
            return
        trace = self._failure_trace(failure, exc_string, retry_count)
        callbacks.post(
            getattr(job, "failed_task_handler", ""),
            {**dict(failure.details), **callbacks.failure_fields(job.id, job.description or "", trace)},
            "failure",
            self.connection,
        )
        if job.failure_ttl is None:
            job.failure_ttl = get_settings().FAILED_JOB_TTL
        resilience.until_redis_answers(
            lambda: super(FusionWorkerMixin, self).handle_job_failure(
                job, queue, started_job_registry, exc_string=trace, execution=execution
            ),
            f"failure bookkeeping of job {job.id}",
        )

    def handle_job_success(self, job: Job, queue: Queue, started_job_registry: Any, execution: Execution) -> None:
        resilience.until_redis_answers(
            lambda: super(FusionWorkerMixin, self).handle_job_success(job, queue, started_job_registry, execution),
            f"success bookkeeping of job {job.id}",
        )
        self._post_success_callback(job)

    def _post_success_callback(self, job: Job) -> None:
        fields = callbacks.success_fields(job.id, job.description or "", getattr(job, "retry_count", 0), job._result)
        task = getattr(job, "task", None)
        if isinstance(task, dict) and task.get("reference") is not None:
            fields.setdefault("reference", str(task["reference"]))
        callbacks.post(getattr(job, "success_task_handler", ""), fields, "success", self.connection)

    # -- helpers ---------------------------------------------------------------------------

    def _retry_count(self, job: Job) -> int:
        """The job's current ``retryCount`` (read once per failure, then kept on the job)."""
        cached = getattr(job, "_fusion_retry_count", None)
        if cached is not None:
            return int(cached)
        raw = resilience.until_redis_answers(lambda: self.connection.hget(job.key, contract.RETRY_COUNT), "retryCount")
        try:
            count = int(float(raw)) if raw else 0
        except ValueError:
            count = 0
        job._fusion_retry_count = count  # type: ignore[attr-defined]
        return count

    @staticmethod
    def _failure_trace(failure: Failure, exc_string: str, retry_count: int) -> str:
        reason = failure.reason
        if failure.retryable:
            reason = f"retries exhausted ({retry_count} attempts): {reason}"
        if exc_string and "Traceback" in exc_string:
            return f"{reason}\n\n{exc_string}"
        return reason

    def _retry(self, job: Job, failure: Failure, execution: Execution | None) -> None:
        """Keep the hash (status scheduled, retryCount + 1) and hand the retry over."""

        def bookkeeping() -> int:
            with self.connection.pipeline() as pipe:
                pipe.hincrby(job.key, contract.RETRY_COUNT, 1)
                job.set_status(JobStatus.SCHEDULED, pipeline=pipe)
                pipe.hset(job.key, "last_failure", failure.reason[:1000])
                self.cleanup_execution(job, pipeline=pipe, execution=execution)
                pipe.zadd(contract.AWAITING_RETRY, {job.id: time.time()})
                self.increment_failed_job_count(pipe)
                return int(pipe.execute()[0])

        count = resilience.until_redis_answers(bookkeeping, f"retry bookkeeping of job {job.id}")
        route = resilience.until_redis_answers(
            lambda: retry.hand_over(self.connection, job.id, job.args, count, failure), f"retry of job {job.id}"
        )
        self.log.warning(
            "Worker %s: job %s failed (%s), retry %d/%d via %s",
            self.name,
            job.id,
            failure.reason,
            count,
            get_settings().MAX_RETRIES,
            route,
        )

    def _defer(self, job: Job, failure: Failure, execution: Execution | None) -> None:
        """Run the job again later, without counting a retry (e.g. our own rate limit)."""
        delay = failure.deferred or 0.0
        job._status = JobStatus.SCHEDULED
        with self.connection.pipeline() as pipe:
            self.cleanup_execution(job, pipeline=pipe, execution=execution)
            pipe.execute()
        schedule_at(self.connection, job.id, time.time() + delay)
        self.log.info("Worker %s: job %s deferred %.1fs (%s)", self.name, job.id, delay, failure.reason)

    def _forget_execution(self, job: Job, execution: Execution | None) -> None:
        with self.connection.pipeline() as pipe:
            self.cleanup_execution(job, pipeline=pipe, execution=execution)
            pipe.execute()


class FusionWorker(FusionWorkerMixin, Worker):
    """Forks a work horse per job (rq's default, and the original's behaviour)."""

    status_is_remote = True

    def setup_work_horse_signals(self) -> None:
        """The horse ignores SIGINT and SIGTERM: a platform that signals every process (Heroku,
        ``docker stop``, systemd's control group) must not kill the job in hand; the worker
        finishes it and exits. A cold stop still kills the horse (SIGKILL from the worker)."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


class FusionSimpleWorker(FusionWorkerMixin, SimpleWorker):
    """Runs each job in the worker process: no fork, faster, less isolated."""
