"""The lean finish: successful jobs' bookkeeping written in one round trip per batch.

A job thread hands its finished job to the :class:`Finisher` and goes on; one thread writes
every job handed in since its last write in one ``FINISH`` script call (group commit), so under
load one round trip finishes many jobs. Per job it writes what rq's
``handle_job_success`` writes, in rq's own formats, without rq's execution records:

- the job hash: ``status=finished``, ``ended_at``; its TTL (``result_ttl``), or the job deleted
  when ``result_ttl`` is 0;
- the result stream entry (``rq:results:<id>``, in the format rq's ``Result`` reads) and the
  finished registry;
- its outbox entry (the success callback), in the same script: the job is finished and its
  callback promised together, or neither;
- once per batch: the claims released (``fusion:claims``), the ``rq:wip:<queue>`` entries
  removed, and the worker's ``successful_job_count``/``total_working_time``.

If Redis is down the batch is retried until it answers (``REDIS_OUTAGE_GRACE``); the claims are
renewed meanwhile, since the jobs count as in hand until their finish is written.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from redis import Redis
from rq.job import Job
from rq.results import UNSERIALIZABLE_RETURN_VALUE_PAYLOAD
from rq.utils import current_timestamp, utcformat

from rq_ext import batch_scripts, contract, events, resilience, scripts, timeline
from rq_ext.outbox import Entry

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Most jobs finished in one round trip.
MAX_BATCH = 128
#: Longest a batch waits for more jobs once it has one (group commit).
LINGER = 0.002


@dataclass
class Finish:
    """A successful job waiting for its bookkeeping, with the outbox entry it promises."""

    job: Job
    queue_name: str
    result_ttl: int
    entry: Entry | None = None


class Finisher:
    """Writes the bookkeeping of successful jobs in batches, on its own thread."""

    def __init__(
        self,
        connection: Redis,
        worker_key: str,
        worker_name: str,
        done: Callable[[str], None],
        written: Callable[[], None] = lambda: None,
    ) -> None:
        self.connection = connection
        self.worker_key = worker_key
        self.worker_name = worker_name
        self.done = done  # called with each job id once its finish is written
        self.written = written  # called after a batch with outbox entries (wakes the outbox sender)
        self._pending: queue.SimpleQueue[Finish | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="fusion-finisher", daemon=True)
        self._thread.start()

    def submit(self, job: Job, queue_name: str, result_ttl: int, entry: Entry | None = None) -> None:
        """Queue the job's finish (and its outbox entry)."""
        self._pending.put(Finish(job, queue_name, result_ttl, entry))

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
        time.sleep(LINGER)  # let others join: one wake-up per batch, not one per job
        return take_batch(self._pending, first, MAX_BATCH)

    def _write(self, batch: list[Finish]) -> None:
        try:
            resilience.until_redis_answers(lambda: self._save(batch), f"finish of {len(batch)} jobs")
        except Exception:
            log.exception("finish of %d jobs could not be written; their claims will be recovered", len(batch))
        for finish in batch:
            self.done(finish.job.id)
        if writes_outbox(batch):
            self.written()

    def _save(self, batch: list[Finish]) -> None:
        keys, args, counts = finish_call(batch, self.worker_key, self.worker_name)
        scripts.pipelined(self.connection, batch_scripts.FINISH, keys, args, counts)


class Finishing(Protocol):
    """What a worker hands its successful jobs to (:class:`Finisher`, or the event-loop class's
    :class:`rq_ext.loop_finish.LoopFinisher`)."""

    def submit(self, job: Job, queue_name: str, result_ttl: int, entry: Entry | None = None) -> None: ...

    def stop(self, timeout: float = 30.0) -> None: ...


def finish_call(
    batch: list[Finish], worker_key: str, worker_name: str
) -> tuple[list[str], list[Any], Callable[[Any], object]]:
    """The ``FINISH`` script's keys and arguments for a batch, and what queues the batch's
    per-minute outcome counts after the call (both finishers send them with
    :func:`rq_ext.scripts.pipelined`)."""
    args: list[Any] = [current_timestamp(), worker_name, working_time(batch), len(batch)]
    for finish in batch:
        args += job_args(finish)
    keys = [contract.CLAIMS, worker_key, contract.OUTBOX_ENTRIES, contract.OUTBOX_DUE]
    return keys, args, functools.partial(timeline.record, outcomes=timeline_of(batch))


def writes_outbox(batch: list[Finish]) -> bool:
    """Whether the batch wrote outbox entries (the sender is woken only then)."""
    return any(finish.entry for finish in batch)


def timeline_of(batch: list[Finish]) -> list[tuple[str, str, str, str]]:
    """The batch's entries in the per-minute outcome counts."""
    return [(f.queue_name, *labels_of(f.job), "finished") for f in batch]


def take_batch(pending: queue.SimpleQueue[T | None], first: T, limit: int) -> tuple[list[T], bool]:
    """``first`` and what else waits in ``pending``, up to ``limit`` items; whether the stop
    signal (None) came among them."""
    batch = [first]
    while len(batch) < limit:
        try:
            item = pending.get_nowait()
        except queue.Empty:
            break
        if item is None:
            return batch, True
        batch.append(item)
    return batch, False


def labels_of(job: Job) -> tuple[str, str]:
    labels = events.job_labels(job, job.origin)
    return labels["channel"], labels["gateway"]


def working_time(batch: list[Finish]) -> float:
    return sum(
        (f.job.ended_at - f.job.started_at).total_seconds() for f in batch if f.job.started_at and f.job.ended_at
    )


def job_args(finish: Finish) -> list[Any]:
    """The ``FINISH`` script's arguments for one job (its result as rq's ``Result`` saves it)."""
    job = finish.job
    stamp = [repr(d.timestamp()) if d else "" for d in (job.started_at, job.ended_at)]
    ended = utcformat(job.ended_at) if job.ended_at else ""
    wip = getattr(job, "wip_entry", None) or ""
    entry = [finish.entry.id, finish.entry.dumps()] if finish.entry else ["", ""]
    return [job.id, finish.queue_name, wip, finish.result_ttl, ended, result_value(job), *stamp, *entry]


def result_value(job: Job) -> str:
    """The ``return_value`` field of rq's result stream ('' for None), as ``Result.serialize``."""
    if job._result is None:
        return ""
    try:
        serialized = job.serializer.dumps(job._result)
    except Exception:
        serialized = job.serializer.dumps(UNSERIALIZABLE_RETURN_VALUE_PAYLOAD)
    return b64encode(serialized).decode()
