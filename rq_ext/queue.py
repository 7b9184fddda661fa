"""The queue class: ``rq:queue:<name>`` is a sorted set (score = priority, highest first), except
``scheduler``, a list taken first in first out. Claims go through the ``CLAIM`` Lua script."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from redis import Redis
from rq.exceptions import DequeueTimeout, NoSuchJobError
from rq.queue import Queue

from rq_ext import keys, scripts
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
        return self.name == keys.SCHEDULER_QUEUE or self.connection.type(self.key) in (b"list", "list")

    @property
    def count(self) -> int:
        return self.connection.llen(self.key) if self.is_list else self.connection.zcard(self.key)

    def get_job_ids(self, offset: int = 0, length: int = -1) -> list[str]:
        end = -1 if length < 0 else offset + length - 1
        if self.is_list:
            return [keys.text(i) for i in self.connection.lrange(self.key, offset, end)]
        return [keys.text(i) for i in self.connection.zrevrange(self.key, offset, end)]

    def get_job_position(self, job_or_id: Any) -> int | None:
        job_id = getattr(job_or_id, "id", job_or_id)
        ids = self.get_job_ids()
        return ids.index(job_id) if job_id in ids else None

    def remove(self, job_or_id: Any, pipeline: Any = None) -> Any:
        job_id = getattr(job_or_id, "id", job_or_id)
        conn = pipeline if pipeline is not None else self.connection
        if self.name == keys.SCHEDULER_QUEUE:
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
        conn.sadd(keys.QUEUES_SET, self.key)
        wake(conn, self.name)
        scripts.run(self.connection, _PUSH, [self.key, keys.job_key(job_id)], [job_id, "1" if at_front else "0"], conn)

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
        claim_keys = [q.key for q in queues] + [keys.CLAIMS, keys.AWAITING_RETRY]
        wake_keys = [keys.wake_key(q.name) for q in queues]
        deadline = None if timeout is None else time.monotonic() + min(timeout, cls.max_block)
        while True:
            claimed = scripts.run(
                connection, scripts.CLAIM, claim_keys, [time.time() + cls.claim_lease, keys.JOB_PREFIX]
            )
            if claimed:
                job_id, queue_key = keys.text(claimed[0]), keys.text(claimed[1])
                queue = next(q for q in queues if q.key == queue_key)
                fields = claimed[2] if len(claimed) > 2 else []
                raw = dict(zip(fields[::2], fields[1::2], strict=True))
                job = cls._load_claimed(connection, job_id, raw, queue, job_class or cls.job_class, serializer)
                if job is not None:
                    return job, queue
                continue
            if deadline is None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise DequeueTimeout(timeout, claim_keys)
            # Sleep until a producer's wake-up token arrives, or poll_interval at most (jobs
            # written by producers that push no token are found by this polling).
            connection.blpop(wake_keys, timeout=max(0.01, min(left, cls.poll_interval)))

    @classmethod
    def _load_claimed(
        cls,
        connection: Redis,
        job_id: str,
        raw: dict[bytes, bytes],
        queue: Queue,
        job_class: type[FusionJob],
        serializer: Any,
    ) -> FusionJob | None:
        """The claimed job built from the hash the claim returned (as ``Job.fetch`` would), or
        None after failing a malformed one (the worker goes on)."""
        from rq_ext.failures import fail_job_id

        try:
            job = job_class(job_id, connection=connection, serializer=serializer)
            job.restore(raw)
            return job
        except NoSuchJobError:
            reason = "malformed job hash: no 'data' field"
        except Exception as exc:
            reason = f"malformed job hash: {type(exc).__name__}: {str(exc)[:200]}"
        fail_job_id(connection, job_id, queue.name, reason)
        return None
