"""rq's own paths can't replace the priority queue or push a sorted-set queue as a list."""

from __future__ import annotations

import signal
import time

from rq import Queue, Retry
from rq.registry import StartedJobRegistry
from rq.worker import WorkerStatus

from rq_ext import contract, enqueue
from rq_ext.job import FusionJob
from rq_ext.queue import FusionQueue
from rq_ext.worker import FusionSimpleWorker, FusionWorker


def test_queue_class_forced_even_when_rq_passes_its_own(conn, settings):
    for cls in (FusionWorker, FusionSimpleWorker):
        worker = cls(
            [Queue("sms", connection=conn), "email"], connection=conn, queue_class=Queue, job_class="rq.job.Job"
        )
        assert issubclass(worker.queue_class, FusionQueue) and worker.job_class is FusionJob
        assert worker.queue_class.settings is settings and worker.queue_class.worker_name == worker.name
        assert all(isinstance(q, FusionQueue) for q in worker.queues + worker._ordered_queues)


def test_rq_retry_keeps_sorted_set(conn, settings):
    job = enqueue("sms", "tests.jobs.record", {}, priority=6, connection=conn, job_id="rt")
    conn.zrem("rq:queue:sms", job.id)
    job = FusionJob.fetch("rt", connection=conn)
    job.retries_left, job.retry_intervals = 2, [0]
    with conn.pipeline() as pipe:
        job.retry(Queue("sms", connection=conn), pipe)
        pipe.execute()
    assert conn.type("rq:queue:sms") == b"zset" and conn.zscore("rq:queue:sms", "rt") == 6


def test_started_registry_cleanup_retry_uses_zadd(conn, settings):
    queue = FusionQueue("sms", connection=conn)
    job = queue.enqueue("tests.jobs.record", {}, retry=Retry(max=2))
    conn.hset(job.key, mapping={"status": "started", "priority": 3})
    conn.zrem("rq:queue:sms", job.id)
    conn.zadd("rq:wip:sms", {f"{job.id}:e1": time.time() - 10})
    StartedJobRegistry("sms", connection=conn, job_class=FusionJob).cleanup()
    assert conn.type("rq:queue:sms") == b"zset" and conn.zscore("rq:queue:sms", job.id) == 3


def test_queue_enqueue_and_counts_on_sorted_set(conn, settings):
    queue = FusionQueue("pn", connection=conn)
    first = queue.enqueue("tests.jobs.record", {})
    conn.hset(first.key, "priority", 9)
    second = queue.enqueue("tests.jobs.record", {})
    assert conn.type(queue.key) == b"zset"
    assert queue.count == 2 and set(queue.get_job_ids()) == {first.id, second.id}
    queue.remove(second.id)
    assert queue.count == 1 and queue.empty() == 1 and queue.count == 0


def test_job_requeue_uses_priority(conn, settings):
    job = enqueue("email", "tests.jobs.crash", {}, priority=4, connection=conn, job_id="rqq")
    conn.zrem("rq:queue:email", job.id)
    conn.zadd("rq:failed:email", {job.id: time.time() + 100})
    FusionJob.fetch("rqq", connection=conn).requeue()
    assert conn.zscore("rq:queue:email", "rqq") == 4 and conn.zscore("rq:failed:email", "rqq") is None
    assert conn.zscore(contract.SCHEDULER_SET, "rqq") is None


def test_rq_names_the_event_loop_claim_relies_on(conn):
    """rq_ext/loop_claim.py moves the claim onto the event loop through these rq names: the
    ``max_jobs`` argument of ``work()`` (read to bound the claims), ``_stop_requested`` (a warm
    stop), the signature of the dequeue seam, ``execute_job``, and the suspension key."""
    import inspect

    from rq.suspension import WORKERS_SUSPENDED
    from rq.worker import Worker

    assert "max_jobs" in inspect.signature(Worker.work).parameters
    assert list(inspect.signature(Worker.dequeue_job_and_maintain_ttl).parameters)[1:] == ["timeout", "max_idle_time"]
    assert list(inspect.signature(Worker.execute_job).parameters)[1:] == ["job", "queue"]
    assert WORKERS_SUSPENDED == "rq:suspended"
    worker = Worker(["pins"], connection=conn)
    assert worker._stop_requested is False
    assert "self._stop_requested" in inspect.getsource(Worker.work)  # rq's loop stops on it
    assert "self._shutdown()" in inspect.getsource(Worker.request_stop)  # the seam a warm stop takes


def test_warm_stop_of_an_idle_worker_is_a_flag_the_dequeue_obeys(conn, settings):
    """rq's ``request_stop`` calls ``_shutdown``, which rq's own raises ``StopRequested`` from
    when idle; ours only sets ``_stop_requested``, and the blocking dequeue then hands back no job
    (rq's ``dequeue_job_and_maintain_ttl`` returns None at once: its loop ends)."""
    job = enqueue("sms", "tests.jobs.record", {}, connection=conn)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for cls in (FusionWorker, FusionSimpleWorker):
            worker = cls(["sms"], connection=conn)
            worker.set_state(WorkerStatus.IDLE)
            worker.request_stop(signal.SIGTERM, None)  # raised StopRequested with rq's _shutdown
            assert worker._stop_requested
            started = time.monotonic()
            assert worker.dequeue_job_and_maintain_ttl(timeout=400) is None
            assert time.monotonic() - started < 5
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert conn.zscore("rq:queue:sms", job.id) is not None  # not claimed
