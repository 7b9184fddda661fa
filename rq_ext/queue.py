"""The queue class: ``rq:queue:<name>`` is a sorted set (score = priority, highest first), except
``scheduler``, a list taken first in first out. Claims go through the ``CLAIM`` Lua script."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from redis import Redis
from rq.exceptions import DequeueTimeout, DeserializationError, NoSuchJobError
from rq.queue import Queue

from rq_ext import contract, scripts
from rq_ext.job import FusionJob
from rq_ext.producer import wake

# KEYS: queue key, job key. ARGV: job id, at_front.
_PUSH = """
if redis.call('TYPE', KEYS[1]).ok == 'list' or string.sub(KEYS[1], -10) == ':scheduler' then
  if ARGV[2] == '1' then return redis.call('LPUSH', KEYS[1], ARGV[1]) end
  return redis.call('RPUSH', KEYS[1], ARGV[1])
end
return redis.call('ZADD', KEYS[1], tonumber(redis.call('HGET', KEYS[2], 'priority') or '0') or 0, ARGV[1])
"""


class FusionQueue(Queue):
    """A priority queue on a Redis sorted set, claimed atomically with a lease."""

    job_class = FusionJob
    #: Seconds a claim holds before it must be renewed (set from CLAIM_LEASE).
    claim_lease: float = 60.0
    #: Longest an idle worker waits for a wake-up token before trying to claim anyway
    #: (set from POLL_INTERVAL).
    poll_interval: float = 0.75
    #: Longest a blocking dequeue waits before handing back to the worker loop (heartbeats).
    max_block: float = 5.0

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
        """Add a job id with the priority kept in its hash (a list push only for ``scheduler``)."""
        conn = pipeline if pipeline is not None else self.connection
        conn.sadd(contract.QUEUES_SET, self.key)
        wake(conn, self.name)
        scripts.run(
            self.connection, _PUSH, [self.key, contract.job_key(job_id)], [job_id, "1" if at_front else "0"], conn
        )

    @classmethod
    def claim(
        cls,
        queues: list[Queue],
        connection: Redis,
        job_class: type[FusionJob],
        serializer: Any = None,
        count: int = 1,
        start: list[Any] | None = None,
    ) -> list[tuple[FusionJob, Queue]]:
        """Claim up to ``count`` jobs, best first, in one round trip (the ``CLAIM`` script).
        ``start`` (worker name, started_at, now, default timeout, execution id prefix) starts
        them in the same script. A malformed job is failed with its reason and left out."""
        claim_keys = [q.key for q in queues] + [contract.CLAIMS, contract.AWAITING_RETRY]
        by_key = {q.key: q for q in queues}
        while True:
            args = [time.time() + cls.claim_lease, contract.JOB_PREFIX, count, *(start or [])]
            claimed = scripts.run(connection, scripts.CLAIM, claim_keys, args) or []
            jobs = []
            for raw_id, raw_key, fields, delivered, member in claimed:
                queue, job_id, wip = (
                    by_key[contract.text(raw_key)],
                    contract.text(raw_id),
                    contract.text(member) or None,
                )
                raw = dict(zip(fields[::2], fields[1::2], strict=True))
                job = cls._load_claimed(connection, job_id, raw, queue, job_class, serializer, wip)
                if job is not None:
                    job.origin = queue.name  # the script wrote it; the hash it returned predates that
                    job.ledger_fresh = None if delivered else {}
                    jobs.append((job, queue))
            if jobs or not claimed:  # only malformed jobs claimed: they failed; claim again
                return jobs

    @classmethod
    def wait_for_jobs(cls, connection: Redis, queues: list[Queue], seconds: float) -> None:
        """Sleep until a producer's wake-up token arrives, or ``poll_interval`` at most (jobs
        written by producers that push no token are found by this polling)."""
        wake_keys = [contract.wake_key(q.name) for q in queues]
        connection.blpop(wake_keys, timeout=max(0.01, min(seconds, cls.poll_interval)))

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
        """Claim the best job of the first non-empty queue; poll until ``timeout`` when all are empty."""
        queues = list(queues)
        deadline = None if timeout is None else time.monotonic() + min(timeout, cls.max_block)
        while True:
            claimed = cls.claim(queues, connection, job_class or cls.job_class, serializer)
            if claimed:
                return claimed[0]
            if deadline is None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise DequeueTimeout(timeout, [q.key for q in queues])
            cls.wait_for_jobs(connection, queues, left)

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
        None after failing a malformed one (the worker goes on)."""
        from rq_ext.failures import fail_job_id

        try:
            job = job_class(job_id, connection=connection, serializer=serializer)
            job.restore(raw)
            job.func_name  # noqa: B018 - deserializes the data now: a bad one fails here, with its reason
            job.wip_entry = wip
            return job
        except NoSuchJobError:
            reason = "malformed job hash: no 'data' field"
        except DeserializationError:
            reason = "malformed job hash: 'data' could not be decoded"
        except Exception as exc:
            reason = f"malformed job hash: {type(exc).__name__}: {str(exc)[:200]}"
        if wip is not None:
            connection.zrem(queue.started_job_registry.key, wip)
        fail_job_id(connection, job_id, queue.name, reason)
        return None
