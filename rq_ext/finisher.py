"""The lean finish: successful jobs' bookkeeping written in one pipelined round trip per batch.

A job thread hands its finished job to the :class:`Finisher` and goes on; one thread writes
every job handed in since its last write in one pipeline (group commit), so under load one
round trip finishes many jobs. Per job it writes what rq's ``handle_job_success`` writes, in
rq's own formats, without rq's execution records:

- the job hash: ``status=finished``, ``ended_at``; its TTL (``result_ttl``), or the job deleted
  when ``result_ttl`` is 0;
- the result (``rq:results:<id>``, through rq's ``Result``) and the finished registry;
- once per batch: the claims released (``fusion:claims``), the ``rq:wip:<queue>`` entries
  removed, and the worker's ``successful_job_count``/``total_working_time``.

If Redis is down the batch is retried until it answers (``REDIS_OUTAGE_GRACE``); the claims are
renewed meanwhile, since the jobs count as in hand until their finish is written.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq.job import Job
from rq.results import Result
from rq.utils import current_timestamp, utcformat

from rq_ext import keys, resilience

log = logging.getLogger(__name__)

#: Most jobs finished in one round trip.
MAX_BATCH = 128
#: Longest a batch waits for more jobs once it has one (group commit).
LINGER = 0.002


@dataclass
class Finish:
    """A successful job waiting for its bookkeeping (``written`` is set once it is written,
    when someone waits for it)."""

    job: Job
    queue_name: str
    result_ttl: int
    written: threading.Event | None = None


class SuccessResult(Result):
    """rq's ``Result`` of a successful job, saved in rq's format by rq's own ``save``; built
    without rq's ``__init__``, which resolves the (already resolved) serializer again through an
    ``isinstance`` against a typing Protocol, the costliest step of a finish."""

    def __init__(self, job: Job, worker_name: str) -> None:
        self.__dict__.update(
            return_value=job._result, exc_string=None, type=Result.Type.SUCCESSFUL, created_at=job.ended_at,
            serializer=job.serializer, connection=job.connection, job_id=job.id, id=None,
            worker_name=worker_name, execution_id=None, execution_started_at=job.started_at,
            execution_ended_at=job.ended_at,
        )  # fmt: skip


class Finisher:
    """Writes the bookkeeping of successful jobs in batches, on its own thread."""

    def __init__(self, connection: Redis, worker_key: str, worker_name: str, done: Callable[[str], None]) -> None:
        self.connection = connection
        self.worker_key = worker_key
        self.worker_name = worker_name
        self.done = done  # called with each job id once its finish is written
        self._pending: queue.SimpleQueue[Finish | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="fusion-finisher", daemon=True)
        self._thread.start()

    def submit(self, job: Job, queue_name: str, result_ttl: int, wait: bool = False) -> None:
        """Queue the job's finish; with ``wait``, return only once it is written."""
        finish = Finish(job, queue_name, result_ttl, threading.Event() if wait else None)
        self._pending.put(finish)
        if finish.written is not None:
            finish.written.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is pending, then stop the thread."""
        self._pending.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            batch, stopping = self._gather()
            if batch:
                self._write(batch)
            if stopping:
                return

    def _gather(self) -> tuple[list[Finish], bool]:
        first = self._pending.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + LINGER
        while len(batch) < MAX_BATCH:
            try:
                item = self._pending.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _write(self, batch: list[Finish]) -> None:
        try:
            resilience.until_redis_answers(lambda: self._pipeline(batch), f"finish of {len(batch)} jobs")
        except Exception:
            log.exception("finish of %d jobs could not be written; their claims will be recovered", len(batch))
        for finish in batch:
            self.done(finish.job.id)
            if finish.written is not None:
                finish.written.set()

    def _pipeline(self, batch: list[Finish]) -> None:
        now = current_timestamp()
        wip: dict[str, list[str]] = defaultdict(list)
        finished: dict[str, dict[str, float]] = defaultdict(dict)
        working = 0.0
        with self.connection.pipeline(transaction=False) as pipe:
            for finish in batch:
                job = finish.job
                if job.wip_entry:  # type: ignore[attr-defined]
                    wip[finish.queue_name].append(job.wip_entry)  # type: ignore[attr-defined]
                if job.started_at and job.ended_at:
                    working += (job.ended_at - job.started_at).total_seconds()
                if self._write_job(pipe, finish):
                    ttl = finish.result_ttl
                    finished[finish.queue_name][job.id] = now + ttl if ttl > 0 else float("inf")
            pipe.zrem(keys.CLAIMS, *[f.job.id for f in batch])
            for queue_name, members in wip.items():
                pipe.zrem(f"rq:wip:{queue_name}", *members)
            for queue_name, scores in finished.items():
                pipe.zadd(f"rq:finished:{queue_name}", scores)
            pipe.hincrby(self.worker_key, "successful_job_count", len(batch))
            pipe.hincrbyfloat(self.worker_key, "total_working_time", working)
            pipe.execute()

    def _write_job(self, pipe: Any, finish: Finish) -> bool:
        """The job's own keys; True when it stays (in the finished registry)."""
        job, ttl = finish.job, finish.result_ttl
        if ttl == 0:
            pipe.delete(job.key, Result.get_key(job.id))
            return False
        ended = utcformat(job.ended_at) if job.ended_at else ""
        pipe.hset(job.key, mapping={"status": "finished", "ended_at": ended})
        SuccessResult(job, self.worker_name).save(ttl, pipeline=pipe)
        if ttl > 0:
            pipe.expire(job.key, ttl)
        else:
            pipe.persist(job.key)
        return True
