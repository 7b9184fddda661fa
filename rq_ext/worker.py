"""The workers: rq's ``Worker`` (forks a work horse per job) and ``SimpleWorker`` (runs the job
in-process), each extended through rq's seams only:

- ``queue_class``/``job_class`` forced to a configured :class:`FusionQueue`/:class:`FusionJob`,
  whatever rq's CLI or pool passed, so no stock BLPOP ever runs on a sorted set;
- ``execute_job``: the job middleware around the job (:mod:`rq_ext.middleware`);
- ``handle_exception``: classify the exception, once;
- ``handle_job_success`` / ``handle_job_failure``: decide the outcome (:mod:`rq_ext.outcome`)
  and apply it in one transaction with its outbox entries;
- ``cleanup_execution``: the one place the outcome's writes join rq's transaction, with the
  release of the claim;
- ``handle_execution_ended``: a Redis blip while marking the end is no job failure;
- ``register_birth``: a stale registration of the same name (a killed predecessor) is cleared
  and its claims put back at once;
- ``bootstrap``/``teardown``: the housekeeper and the outbox sender;
- ``_shutdown`` (rq's warm stop, from ``request_stop``): only a flag, which the queue class's
  ``dequeue_any`` and rq's loop obey, never an exception thrown into the loop;
- ``request_force_stop``: a cold stop puts the job in hand back into its queue.
"""

from __future__ import annotations

import gc
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

from config import Settings, get_settings
from errors import Failure, FusionError
from rq_ext import contract, events, middleware, outcome, recovery, resilience, timeline
from rq_ext.classify import classify, classify_exc_string
from rq_ext.housekeeper import Housekeeper
from rq_ext.job import FusionJob, int_field
from rq_ext.outcome import Decision
from rq_ext.queue import FusionQueue
from rq_ext.schedule import promote_due
from rq_ext.sender import Sender
from wrappers import context, sentry, systemd

log = logging.getLogger(__name__)


def preload(names: list[str]) -> None:
    """Import the channel modules once at start, so a forked work horse finds them loaded
    (importing boto3 or google-auth in every horse would cost ~0.5 s per job)."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a broken channel must not stop the others
            log.error("channel module %s failed to import: %s", name, exc)


#: Seconds between two heartbeats of the worker loop (rq would send several per job).
HEARTBEAT_EVERY = 10.0


class FusionWorkerMixin(BaseWorker):
    """Claim, outcome, outbox and recovery behaviour shared by every Fusion worker class."""

    queue_class = FusionQueue
    job_class = FusionJob

    def __init__(self, queues: Any, *args: Any, settings: Settings | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("log_job_description", False)
        super().__init__(queues, *args, **kwargs)
        self.settings = settings or get_settings()
        self._adopt_fusion_classes()
        self._cold_stop = False
        self.housekeeper = Housekeeper(self.connection, self.settings, self.jobs_in_hand, self.is_alive)
        self.sender = Sender(self.connection, self.settings)
        self.hooks = middleware.Hooks(middleware.load(self.settings.JOB_MIDDLEWARE))

    def _adopt_fusion_classes(self) -> None:
        """Undo a ``queue_class``/``job_class`` that rq's CLI or WorkerPool imposed; hand the
        settings to the queue class."""
        if not (isinstance(self.job_class, type) and issubclass(self.job_class, FusionJob)):
            self.job_class = FusionJob
        base = self.queue_class if isinstance(self.queue_class, type) else FusionQueue
        chosen = base if issubclass(base, FusionQueue) else FusionQueue
        self.queue_class = chosen.configured(self.settings, worker=self.name, stopping=self.stop_requested)
        self.queues = [self._fusion_queue(q) for q in self.queues]
        self._ordered_queues = self.queues[:]

    def _fusion_queue(self, queue: Queue) -> Queue:
        return self.queue_class(
            queue.name, connection=self.connection, job_class=self.job_class, serializer=self.serializer
        )

    def stop_requested(self) -> bool:
        """A warm stop was asked for (SIGTERM or SIGINT): claim no more jobs."""
        return self._stop_requested

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

    # -- lifecycle -------------------------------------------------------------------------

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        context.set_worker(self.name)
        events.quiet_rq()
        preload(self.settings.PRELOAD_MODULES)
        super().bootstrap(*args, **kwargs)
        promote_due(self.connection)
        recovery.recover_abandoned(self.connection, self.settings)
        self.housekeeper.start()
        self.sender.start()
        systemd.notify(f"READY=1\nSTATUS=listening on {','.join(self.queue_names())}")
        # What start-up built (modules, settings, clients) lives as long as the process: out of
        # the collector's generations, a full collection no longer walks it per few hundred jobs
        # (no-op jobs on the event-loop class: ~10 % less CPU per job, docs/performance.md).
        gc.freeze()

    def teardown(self) -> None:
        if not self.is_horse:
            systemd.notify("STOPPING=1")
            self.housekeeper.stop()
            self.sender.stop()
            self.sender.drain(self.settings.CALLBACK_TIMEOUT + 5)  # its last callbacks, now
            sentry.flush()
        super().teardown()

    def register_birth(self) -> None:
        """rq refuses a name whose registration is alive. A registration left by a killed
        process of this name (same host and a pid that is gone, or no heartbeat for a lease) is
        cleared, and every claim it still held goes back into its queue, before starting."""
        if recovery.namesake_is_stale(self.connection, self.key, self.settings):
            self.connection.delete(self.key)
        for job_id in recovery.release_owned(self.connection, self.name):
            self.log.warning("Worker %s: job %s of a dead namesake put back into its queue", self.name, job_id)
        super().register_birth()
        self.connection.hset(self.key, mapping=self.registration_extras())

    #: This class's name for ``--worker-class`` (the dashboard's Workers page shows it).
    kind = "simple"

    def registration_extras(self) -> dict[Any, Any]:
        """Fields added to rq's worker hash: class, concurrency, DRY_RUN."""
        concurrency = str(getattr(self, "concurrency", 1))
        return {"worker_class": self.kind, "concurrency": concurrency, "dry_run": "1" if self.settings.DRY_RUN else "0"}

    def clean_registries(self) -> None:
        """Recover abandoned jobs before rq's started-registry cleanup could fail them."""
        recovery.recover_abandoned(self.connection, self.settings)
        super().clean_registries()

    def _shutdown(self) -> None:
        """The warm stop of rq's ``request_stop`` (a signal handler): set the flag only. When the
        worker is not busy rq raises ``StopRequested`` into whatever the main thread is doing at
        that instant: an ``except Exception`` there (the middleware hooks after a job) swallowed
        it and the worker ran on, idle, until killed; a Redis command it cut between request and
        reply left that reply to the connection's next command. The flag ends the loop at its
        next turn: before the next claim (``FusionQueue.dequeue_any``, within ``POLL_INTERVAL``)
        or after the job in hand."""
        self._stop_requested = True
        resilience.tolerate_outage(self.set_shutdown_requested_date, "shutdown request", None)

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
        resilience.tolerate_outage(lambda: super(FusionWorkerMixin, self).heartbeat(timeout), "heartbeat", None)

    def check_for_suspension(self, burst: bool) -> None:
        resilience.tolerate_outage(
            lambda: super(FusionWorkerMixin, self).check_for_suspension(burst), "suspension check", None
        )

    def run_maintenance_tasks(self) -> None:
        resilience.tolerate_outage(lambda: super(FusionWorkerMixin, self).run_maintenance_tasks(), "maintenance", None)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        """The worker's state for dashboards: a Redis blip must not end the loop over it."""
        if pipeline is not None:
            super().set_state(state, pipeline)
            return
        resilience.tolerate_outage(lambda: super(FusionWorkerMixin, self).set_state(state), "worker state", None)

    def prepare_execution(self, job: Job) -> Execution:
        """rq's execution record before the job runs: waits for Redis instead of ending the loop."""
        return resilience.until_redis_answers(
            lambda: super(FusionWorkerMixin, self).prepare_execution(job), f"start of job {job.id}", self.settings
        )

    def maintain_heartbeats(self, job: Job, execution: Execution) -> None:
        """The forking worker's beats while its horse works: a blip skips one."""
        resilience.tolerate_outage(
            lambda: super(FusionWorkerMixin, self).maintain_heartbeats(job, execution), "job heartbeat", None
        )

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        """rq marks the end with a heartbeat; Redis unreachable then is no failure of the job."""
        job.ended_at = now()
        resilience.tolerate_outage(lambda: job.heartbeat(now(), heartbeat_ttl), "job heartbeat", None)

    # -- around the job ----------------------------------------------------------------------

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run the job between the middleware's hooks."""
        started = time.time()
        self.hooks.before(job, queue.name)
        try:
            super().execute_job(job, queue)
        finally:
            self.hooks.after(job, queue.name, self._outcome_of(job), time.time() - started)
            self.sender.wake()

    def _outcome_of(self, job: Job) -> str:
        if isinstance(job, FusionJob) and job.run.outcome:
            return job.run.outcome
        return events.outcome_of_status(contract.text(getattr(job.get_status(refresh=False), "value", "")))

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        """rq's bookkeeping, without the LREM of an intermediate list that sorted-set queues never use."""
        super().prepare_job_execution(job, remove_from_intermediate_queue=False)

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        exc = exc_info[1] if len(exc_info) > 1 else None
        if not self._cold_stop and exc is not None and isinstance(job, FusionJob):
            failure = job.run.failure = classify(exc)
            if failure.deferred is not None or (
                failure.retryable and self._retry_count(job) < self.settings.MAX_RETRIES
            ):
                sentry.mark_will_retry(exc)  # only final failures reach Sentry
        with events.expected_failure(isinstance(exc, FusionError)):
            super().handle_exception(job, *exc_info)

    def handle_job_success(self, job: Job, queue: Queue, started_job_registry: Any, execution: Execution) -> None:
        assert isinstance(job, FusionJob)
        decision = outcome.decide_success(job)
        job.run.writes = self._writes(job, queue.name, decision)
        resilience.until_redis_answers(
            lambda: super(FusionWorkerMixin, self).handle_job_success(job, queue, started_job_registry, execution),
            f"success bookkeeping of job {job.id}",
            self.settings,
        )
        job.run.outcome = decision.outcome

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: Any = None,
        exc_string: str = "",
        execution: Execution | None = None,
    ) -> None:
        assert isinstance(job, FusionJob)
        if self._cold_stop:
            self._end_run(job, execution, None)
            return
        failure = job.run.failure or classify_exc_string(exc_string)
        decision = outcome.decide_failure(job, failure, exc_string, self._retry_count(job), self.settings)
        job.run.writes = self._writes(job, queue.name, decision)
        resilience.until_redis_answers(
            lambda: self._end_run(job, execution, decision), f"outcome of job {job.id}", self.settings
        )
        job.run.outcome = decision.outcome
        self._log_failure(job, failure, decision)

    @staticmethod
    def _writes(job: FusionJob, queue_name: str, decision: Decision) -> Any:
        """The decision's writes and its count in the dashboard's time buckets, for the
        transaction that ends the run."""
        labels = events.job_labels(job, queue_name)
        counted = [(queue_name, labels["channel"], labels["gateway"], decision.outcome)]

        def writes(pipe: Any) -> None:
            outcome.stage(pipe, job.id, decision)
            timeline.record(pipe, counted)

        return writes

    def _end_run(self, job: FusionJob, execution: Execution | None, decision: Decision | None) -> None:
        """One transaction: rq's bookkeeping of the failed or rescheduled run, the claim's
        release and the decision's writes (``cleanup_execution``)."""
        with self.connection.pipeline() as pipe:
            if decision is not None and decision.outcome == outcome.FAILED:
                job.set_status(JobStatus.FAILED, pipeline=pipe)
                if job.failure_ttl is None:
                    job.failure_ttl = self.settings.FAILED_JOB_TTL
                job._handle_failure(
                    decision.trace,
                    pipeline=pipe,
                    worker_name=self.name,
                    execution_id=execution.id if execution else None,
                    execution_started_at=execution.created_at if execution else None,
                    execution_ended_at=job.ended_at,
                )
            elif decision is not None:
                job._status = JobStatus.SCHEDULED
            if decision is not None and decision.outcome in (outcome.FAILED, outcome.RETRIED):
                self.increment_failed_job_count(pipe)
            self.cleanup_execution(job, pipeline=pipe, execution=execution)
            pipe.execute()

    def cleanup_execution(self, job: Job, pipeline: Any, execution: Execution | None = None) -> None:
        """rq's cleanup, the release of the claim, and the outcome's writes, in one transaction."""
        super().cleanup_execution(job, pipeline, execution)
        self.end_claim(job, pipeline)

    def end_claim(self, job: Job, pipeline: Any) -> None:
        pipeline.zrem(contract.CLAIMS, job.id)
        writes = job.run.writes if isinstance(job, FusionJob) else None
        if writes is not None:
            writes(pipeline)

    def _log_failure(self, job: FusionJob, failure: Failure, decision: Decision) -> None:
        if decision.outcome == outcome.RETRIED:
            route = "/retryTask/" if decision.handed_over else f"local schedule in {decision.delay:.1f}s"
            self.log.warning(
                "Worker %s: job %s failed (%s), retry %d/%d via %s",
                self.name,
                job.id,
                failure.reason,
                decision.retry_count,
                self.settings.MAX_RETRIES,
                route,
            )
        elif decision.outcome == outcome.DEFERRED:
            self.log.info("Worker %s: job %s deferred %.1fs (%s)", self.name, job.id, decision.delay, failure.reason)
        else:
            self.log.warning("Worker %s: job %s failed: %s", self.name, job.id, decision.reason)

    def _retry_count(self, job: FusionJob) -> int:
        """The job's ``retryCount``, read once per failure."""
        if job.run.retry_count is None:
            job.run.retry_count = self.read_retry_count(job)
        return job.run.retry_count

    def read_retry_count(self, job: FusionJob) -> int:
        """In-process, the loaded job's count is current (the middleware keeps it so)."""
        return job.retry_count


class FusionWorker(FusionWorkerMixin, Worker):
    """Forks a work horse per job (rq's default, and the original's behaviour)."""

    kind = "fork"

    def setup_work_horse_signals(self) -> None:
        """The horse ignores SIGINT and SIGTERM: a platform that signals every process (Heroku,
        ``docker stop``, systemd's control group) must not kill the job in hand; the worker
        finishes it and exits. A cold stop still kills the horse (SIGKILL from the worker)."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def read_retry_count(self, job: FusionJob) -> int:
        """The parent's copy of the job predates its run in the horse: read Redis."""
        if self.is_horse:
            return job.retry_count
        raw = resilience.until_redis_answers(
            lambda: self.connection.hget(job.key, contract.RETRY_COUNT), "retryCount", self.settings
        )
        return int_field({contract.RETRY_COUNT: raw}, contract.RETRY_COUNT)

    def _outcome_of(self, job: Job) -> str:
        """The horse decided; its outcome is in Redis."""
        if isinstance(job, FusionJob) and job.run.outcome:
            return job.run.outcome
        status = resilience.tolerate_outage(lambda: self.connection.hget(job.key, "status"), "job status", None)
        return events.outcome_of_status(contract.text(status))


class FusionSimpleWorker(FusionWorkerMixin, SimpleWorker):
    """Runs each job in the worker process: no fork, faster, less isolated."""
