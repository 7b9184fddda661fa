"""The event-loop class's finishes: the :class:`~rq_ext.finisher.Finisher`'s batched ``FINISH``
script (with the success callbacks' outbox entries and the per-minute outcome counts), written on
the event loop through redis-py's asyncio client instead of on a thread of its own.

A finish handed in while one is being written goes in the next batch (group commit). While Redis
is unreachable a batch waits for it (``REDIS_OUTAGE_GRACE``); the jobs stay in hand meanwhile,
so their leases are renewed, and once written they are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis as AsyncRedis
from rq.job import Job

from config import Settings
from rq_ext import batch_scripts, resilience, scripts
from rq_ext.batching import GroupCommit
from rq_ext.finisher import Finish, finish_call, writes_outbox
from rq_ext.outbox import Entry

log = logging.getLogger(__name__)

#: Most jobs finished in one round trip: as many as one claim takes at c=256, so that the
#: finishes of fast jobs keep up with their claims.
MAX_BATCH = 256


class LoopFinisher:
    """Writes the bookkeeping of successful jobs in batches, on ``loop``."""

    def __init__(
        self,
        client: AsyncRedis,
        loop: asyncio.AbstractEventLoop,
        worker: tuple[str, str],
        done: Callable[[str], None],
        written: Callable[[], None],
        settings: Settings,
    ) -> None:
        self.client = client
        self.loop = loop
        self.worker_key, self.worker_name = worker
        self.done = done  # called with each job id once its finish is written
        self.written = written  # called after a batch with outbox entries (wakes the outbox sender)
        self.settings = settings
        self._batches: GroupCommit[Finish] = GroupCommit(self._write, MAX_BATCH)
        self._loop_thread: int | None = None

    def submit(self, job: Job, queue_name: str, result_ttl: int, entry: Entry | None = None) -> None:
        """Queue the job's finish (from the loop, or from a thread of the blocking pool)."""
        finish = Finish(job, queue_name, result_ttl, entry)
        if threading.get_ident() == self._loop_thread:
            self._add(finish)
        else:
            self.loop.call_soon_threadsafe(self._add, finish)

    async def close(self) -> None:
        """Write what waits (on the loop)."""
        await self._batches.close()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what waits, from another thread (a cold stop); nothing once the loop is stopped
        (a warm stop wrote them with :meth:`close`)."""
        if not self.loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.close(), self.loop).result(timeout)
        except Exception:
            log.warning("finishes still being written after %.1f s; their claims will be recovered", timeout)

    def _add(self, finish: Finish) -> None:
        self._loop_thread = threading.get_ident()
        self._batches.add(finish, self.loop)

    async def _write(self, batch: list[Finish]) -> None:
        try:
            what = f"finish of {len(batch)} jobs"
            await resilience.until_redis_answers_async(lambda: self._save(batch), what, self.settings)
        except Exception:
            log.exception("finish of %d jobs could not be written; their claims will be recovered", len(batch))
        for finish in batch:
            self.done(finish.job.id)
        if writes_outbox(batch):
            self.written()

    async def _save(self, batch: list[Finish]) -> Any:
        keys, args, counts = finish_call(batch, self.worker_key, self.worker_name)
        return await scripts.pipelined_async(self.client, batch_scripts.FINISH, keys, args, counts)
