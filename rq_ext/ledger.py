"""The delivery ledger: what a provider already accepted for a job, so it is never sent twice.

Before a channel calls its provider for an item (an SMS number, a push token, the e-mail, the
webhook), it asks :meth:`Ledger.accepted`; after the provider accepts, it calls
:meth:`Ledger.record`. A job recovered after a crash, or retried after a partial success (3 of 5
recipients accepted), then sends only to what is still pending. The records live in one Redis
hash per job (``fusion:delivered:<job id>``, kept ``TTL`` seconds). Outside a worker (a direct
call, a test) the ledger is empty and records nothing. When the claim found no ledger hash for
the job (its first run), the ledger is read from this run's own records, not from Redis.
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from rq_ext import contract, resilience

PREFIX = contract.LEDGER_PREFIX
#: Seconds the records are kept: longer than any retry schedule.
TTL = 7 * 24 * 3600
#: ``Ledger(..., job=CURRENT)``: the job rq runs on this thread.
CURRENT: Any = object()


class Ledger:
    """The accepted deliveries of one job on one channel."""

    def __init__(self, channel: str, job_id: str | None = None, connection: Any = None, *, job: Any = CURRENT) -> None:
        if job is CURRENT:  # a plan hands its job in (:mod:`rq_ext.sansio`); others find it
            job = get_current_job() if job_id is None else None
        self.job_id = job_id or (job.id if job is not None else None)
        self.connection: Any = connection or (job.connection if job is not None else None)
        self.channel = channel
        # The claim found no ledger for this job: this run's own records are the whole ledger.
        self.fresh: dict[str, str] | None = getattr(job, "ledger_fresh", None)

    @property
    def active(self) -> bool:
        return self.job_id is not None and self.connection is not None

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.job_id}"

    def _field(self, item: str) -> str:
        return f"{self.channel}:{item}"

    def field_of(self, item: str) -> str:
        """The ledger hash field of ``item``."""
        return self._field(item)

    def remember(self, field: str, value: str) -> None:
        """A record written by someone else (the event loop's batched writer) is this run's too."""
        if self.fresh is not None:
            self.fresh[field] = value

    def accepted(self, item: str) -> str | None:
        """The provider's id for ``item`` if it was already accepted for this job."""
        if not self.active:
            return None
        if self.fresh is not None:
            return self.fresh.get(self._field(item))
        raw = self.connection.hget(self.key, self._field(item))
        return raw.decode() if isinstance(raw, bytes) else raw

    def pending(self, items: list[str]) -> list[str]:
        """The items not yet accepted, in order."""
        if not self.active or not items:
            return list(items)
        if self.fresh is not None:
            return [item for item in items if self._field(item) not in self.fresh]
        done = self.connection.hmget(self.key, [self._field(i) for i in items])
        return [item for item, value in zip(items, done, strict=True) if value is None]

    def record(self, item: str, provider_id: str = "accepted") -> None:
        """Remember that the provider accepted ``item`` (with its message id). The provider has
        accepted: while Redis is unreachable the write waits for it (``REDIS_OUTAGE_GRACE``), or
        a re-run would send the item again."""
        if self.active:
            field, value = self._field(item), provider_id or "accepted"
            resilience.until_redis_answers(lambda: self._write(field, value), f"ledger of job {self.job_id}")
            if self.fresh is not None:
                self.fresh[field] = value

    def _write(self, field: str, value: str) -> None:
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.hset(self.key, field, value)
            pipe.expire(self.key, TTL)
            pipe.execute()
