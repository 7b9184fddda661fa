"""The queue class: ``rq:queue:<name>`` is a sorted set (score = priority, highest first), except
``scheduler``, a list taken first in first out. Claims go through the ``CLAIM`` Lua script.

A job that cannot be loaded once claimed is failed in Redis only (:mod:`rq_ext.failures`: its
failure callback goes through the outbox): the claim does no network I/O other than Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from rq.exceptions import DequeueTimeout, DeserializationError, NoSuchJobError
from rq.queue import Queue

from config import Settings, get_settings
from errors import InvalidJob
from rq_ext import batch_scripts, contract, scripts
from rq_ext.failures import fail_job_id
from rq_ext.job import FusionJob


def known_queue_names(connection: Redis, settings: Settings | None = None) -> list[str]:
    """Queues of the settings plus every queue registered in ``rq:queues``."""
    names = list((settings or get_settings()).QUEUES)
    for key in sorted(contract.text(k) for k in connection.smembers(contract.QUEUES_SET)):
        name = key[len(contract.QUEUE_PREFIX) :]
        if key.startswith(contract.QUEUE_PREFIX) and name not in names and name != "schedulerSet":
            names.append(name)
    return names


class FusionQueue(Queue):
    """A priority queue on a Redis sorted set, claimed atomically with a lease.

    The worker hands its settings in through :meth:`configured`, a subclass of its own."""

    job_class = FusionJob
    settings: Settings | None = None
    #: The claiming worker's name, written into the hash of each job it claims.
    worker_name: str = ""
    #: Longest a blocking dequeue waits before handing back to the worker loop (heartbeats).
    max_block: float = 5.0

    @staticmethod
    def stopping() -> bool:
        """Whether the claiming worker was asked to stop: :meth:`dequeue_any` then hands back no
        job, which ends rq's worker loop (its warm stop, without an exception; see
        ``FusionWorkerMixin._shutdown``)."""
        return False

    @classmethod
    def configured(
        cls, settings: Settings, worker: str = "", stopping: Callable[[], bool] | None = None
    ) -> type[FusionQueue]:
        """This class with ``settings`` handed in (lease, poll interval, default job timeout), the
        worker that claims through it, and that worker's stop request."""
        attrs = {
            "settings": settings,
            "DEFAULT_TIMEOUT": settings.DEFAULT_JOB_TIMEOUT,
            "worker_name": worker,
            "__module__": cls.__module__,
        }
        if stopping is not None:
            attrs["stopping"] = staticmethod(stopping)
        return type(cls.__name__, (cls,), attrs)

    @classmethod
    def current_settings(cls) -> Settings:
        return cls.settings or get_settings()

    @property
    def is_list(self) -> bool:
        return self.name == contract.SCHEDULER_QUEUE or self.connection.type(self.key) in (b"list", "list")

    @property
    def count(self) -> int:
        return self.connection.llen(self.key) if self.is_list else self.connection.zcard(self.key)

    def get_job_ids(self, offset: int = 0, length: int = -1) -> list[str]:
        end = -1 if length < 0 else offset + length - 1
        if self.is_list:
            return [contract.text(i) for i in self.connection.lrange(self.key, offset, end)]
        return [contract.text(i) for i in self.connection.zrevrange(self.key, offset, end)]

    def get_job_position(self, job_or_id: Any) -> int | None:
        job_id = getattr(job_or_id, "id", job_or_id)
        ids = self.get_job_ids()
        return ids.index(job_id) if job_id in ids else None

    def remove(self, job_or_id: Any, pipeline: Any = None) -> Any:
        job_id = getattr(job_or_id, "id", job_or_id)
        conn = pipeline if pipeline is not None else self.connection
        if self.name == contract.SCHEDULER_QUEUE:
            return conn.lrem(self.key, 1, job_id)
        return conn.zrem(self.key, job_id)

    def compact(self) -> None:
        """Nothing to compact: ids of deleted jobs are dropped when claimed."""

    def empty(self) -> int:
        count = self.count
        self.connection.delete(self.key)
        return count

    def push_job_id(self, job_id: str, pipeline: Any = None, at_front: bool = False) -> None:
        """Add a job id by the push rule (:data:`rq_ext.scripts.PUSH_FN`)."""
        scripts.push(self.connection, self.name, job_id, client=pipeline, at_front=at_front)

    @classmethod
    def claim(
        cls,
        queues: list[Queue],
        connection: Redis,
        job_class: type[FusionJob],
        serializer: Any = None,
        count: int = 1,
        worker: str = "",
        start: list[Any] | None = None,
    ) -> list[tuple[FusionJob, Queue]]:
        """Claim up to ``count`` jobs, best first, in one round trip (the ``CLAIM`` script),
        naming ``worker`` in their hashes. ``start`` (started_at, now, default timeout,
        execution id prefix) starts them in the same script. A malformed job is failed in Redis
        with its reason and left out."""
        keys, args = cls.claim_script_args(queues, count, worker, start)
        while True:
            claimed = scripts.run(connection, batch_scripts.CLAIM, keys, args) or []
            jobs = cls.load_claimed(claimed, queues, connection, job_class, serializer)
            if jobs or not claimed:  # only malformed jobs claimed: they failed; claim again
                return jobs

    @classmethod
    async def claim_async(
        cls,
        client: AsyncRedis,
        queues: list[Queue],
        connection: Redis,
        job_class: type[FusionJob],
        serializer: Any = None,
        count: int = 1,
        worker: str = "",
        start: list[Any] | None = None,
    ) -> list[tuple[FusionJob, Queue]]:
        """:meth:`claim` through an asyncio ``client`` (the loaded jobs use ``connection``)."""
        keys, args = cls.claim_script_args(queues, count, worker, start)
        while True:
            claimed = await scripts.run_async(client, batch_scripts.CLAIM, keys, args) or []
            jobs = cls.load_claimed(claimed, queues, connection, job_class, serializer)
            if jobs or not claimed:
                return jobs

    @classmethod
    def claim_script_args(
        cls, queues: list[Queue], count: int, worker: str, start: list[Any] | None
    ) -> tuple[list[str], list[Any]]:
        """The ``CLAIM`` script's keys and arguments."""
        keys = [q.key for q in queues] + [contract.CLAIMS, contract.AWAITING_RETRY]
        lease = cls.current_settings().CLAIM_LEASE
        return keys, [lease, count, worker, "1" if start else "0", *(start or [])]

    @classmethod
    def load_claimed(
        cls, claimed: list[Any], queues: list[Queue], connection: Redis, job_class: type[FusionJob], serializer: Any
    ) -> list[tuple[FusionJob, Queue]]:
        """The jobs of a ``CLAIM`` reply; a malformed one is failed in Redis and left out."""
        by_key = {q.key: q for q in queues}
        jobs = []
        for raw_id, raw_key, fields, delivered, member in claimed:
            queue, job_id, wip = by_key[contract.text(raw_key)], contract.text(raw_id), contract.text(member)
            raw = dict(zip(fields[::2], fields[1::2], strict=True))
            job = cls._load_claimed(connection, job_id, raw, queue, job_class, serializer, wip or None)
            if job is not None:
                job.origin = queue.name  # the script wrote it; the hash it returned predates that
                job.ledger_fresh = None if delivered else {}
                jobs.append((job, queue))
        return jobs

    @classmethod
    def wait_for_jobs(cls, connection: Redis, queues: list[Queue], seconds: float) -> None:
        """Sleep until a producer's wake-up token arrives, or ``POLL_INTERVAL`` at most (jobs
        written by producers that push no token are found by this polling)."""
        wake_keys = [contract.wake_key(q.name) for q in queues]
        connection.blpop(wake_keys, timeout=cls._poll_seconds(seconds))

    @classmethod
    async def wait_for_jobs_async(cls, client: AsyncRedis, queues: list[Queue], seconds: float) -> None:
        """:meth:`wait_for_jobs` through an asyncio client."""
        await client.blpop([contract.wake_key(q.name) for q in queues], timeout=cls._poll_seconds(seconds))

    @classmethod
    def _poll_seconds(cls, seconds: float) -> float:
        return max(0.01, min(seconds, cls.current_settings().POLL_INTERVAL))

    @classmethod
    def dequeue_any(  # type: ignore[override]
        cls,
        queues: Iterable[Queue],
        timeout: int | None,
        connection: Redis,
        job_class: type[FusionJob] | None = None,
        serializer: Any = None,
        death_penalty_class: Any = None,
    ) -> tuple[FusionJob, Queue] | None:
        """Claim the best job of the first non-empty queue; poll until ``timeout`` when all are empty.
        None once the worker is stopping (before each claim)."""
        queues = list(queues)
        deadline = None if timeout is None else time.monotonic() + min(timeout, cls.max_block)
        while not cls.stopping():
            claimed = cls.claim(queues, connection, job_class or cls.job_class, serializer, worker=cls.worker_name)
            if claimed:
                return claimed[0]
            if deadline is None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise DequeueTimeout(timeout, [q.key for q in queues])
            cls.wait_for_jobs(connection, queues, left)
        return None

    @classmethod
    def _load_claimed(
        cls,
        connection: Redis,
        job_id: str,
        raw: dict[bytes, bytes],
        queue: Queue,
        job_class: type[FusionJob],
        serializer: Any,
        wip: str | None = None,
    ) -> FusionJob | None:
        """The claimed job built from the hash the claim returned (as ``Job.fetch`` would), or
        None after failing a malformed one in Redis (the worker goes on)."""
        try:
            job = job_class(job_id, connection=connection, serializer=serializer)
            job.restore(raw)
            job.func_name  # noqa: B018 - deserializes the data now: a bad one fails here, with its reason
            job.wip_entry = wip
            return job
        except NoSuchJobError:
            reason = "malformed job hash: no 'data' field"
        except DeserializationError as exc:
            reason = f"malformed job hash: 'data' could not be decoded ({_cause(exc)})"
        except InvalidJob as exc:
            reason = str(exc)
        except Exception as exc:
            reason = f"malformed job hash: {type(exc).__name__}: {str(exc)[:200]}"
        fail_job_id(connection, job_id, queue.name, reason, wip)
        return None


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if cause is None:
        return type(exc).__name__
    return f"{type(cause).__name__}: {str(cause)[:160]}" if str(cause) else type(cause).__name__
