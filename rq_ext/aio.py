"""The event-loop driver of sans-I/O plans (:mod:`rq_ext.sansio`), and what it drives them with.

:func:`drive` runs a plan as a coroutine: a :class:`~wrappers.transport.Request` goes to the
event-loop transport (:func:`wrappers.loop_http.open_transport`), a
:class:`~rq_ext.sansio.Record` to the :class:`LedgerWriter`, a :class:`~rq_ext.sansio.Call` to
a bounded thread pool, a :class:`~rq_ext.sansio.Script` to the
:class:`~rq_ext.batching.ScriptBatch` (the scripts of every plan in flight in one pipeline). A
failure of an effect is raised into the plan, as on a thread.

The :class:`LedgerWriter` writes the records of every job in flight in one pipeline per batch
(group commit, as the :class:`~rq_ext.finisher.Finisher` does for finishes) on the loop itself,
through redis-py's asyncio client with hiredis; a plan goes on once its record is written. While
Redis is unreachable a batch waits for it (``REDIS_OUTAGE_GRACE``), as
:meth:`rq_ext.ledger.Ledger.record` does.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis as AsyncRedis

from config import Settings
from rq_ext import resilience, scripts
from rq_ext.batching import GroupCommit, ScriptBatch, settle
from rq_ext.ledger import TTL
from rq_ext.sansio import Call, Plan, Record, Script, Together
from wrappers.transport import LoopHTTP, Request

log = logging.getLogger(__name__)

#: Most ledger records written in one round trip.
MAX_BATCH = 256
#: Seconds between two sweeps of the loop's job deadlines (their precision).
SWEEP = 0.1


@dataclass(frozen=True, slots=True)
class Pending:
    """A record waiting for its write, and the future its plan awaits."""

    key: str
    field: str
    value: str
    future: asyncio.Future[None]


class LedgerWriter:
    """Writes the delivery-ledger records of an event loop's jobs in batches, on that loop,
    through redis-py's asyncio ``client`` (None: no ledger is active, as outside a worker).

    The first record starts a write; the records that come while it is in flight go together in
    the next (group commit, as the :class:`~rq_ext.finisher.Finisher` does on its thread)."""

    def __init__(self, client: AsyncRedis | None, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._batches: GroupCommit[Pending] = GroupCommit(self._write, MAX_BATCH)

    async def record(self, effect: Record) -> None:
        """Return once the record is in Redis (raises what the write raised)."""
        ledger = effect.ledger
        if not ledger.active:
            return
        loop = asyncio.get_running_loop()
        field, value = ledger.field_of(effect.item), effect.value or "accepted"
        pending = Pending(ledger.key, field, value, loop.create_future())
        self._batches.add(pending, loop)
        await pending.future
        ledger.remember(field, value)

    async def close(self) -> None:
        """Write what waits (the client is its owner's to close)."""
        await self._batches.close()

    async def _write(self, batch: list[Pending]) -> None:
        error: BaseException | None = None
        try:
            what = f"ledger of {len(batch)} jobs"
            await resilience.until_redis_answers_async(lambda: self._save(batch), what, self.settings)
        except Exception as exc:
            error = exc
        settle([p.future for p in batch], [error] * len(batch))

    async def _save(self, batch: list[Pending]) -> None:
        if self.client is None:
            raise RuntimeError("a ledger record with no Redis client to write it")
        async with self.client.pipeline(transaction=False) as pipe:
            for pending in batch:
                pipe.hset(pending.key, pending.field, pending.value)
            for key in dict.fromkeys(p.key for p in batch):
                pipe.expire(key, TTL)
            await pipe.execute()


class LoopDeadlines:
    """Job deadlines on one event loop: a sweep every :data:`SWEEP` seconds cancels the tasks
    past theirs (``asyncio.timeout`` per job cost more than the rest of a job's bookkeeping)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._due: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweeping = False

    def arm(self, task: asyncio.Task[Any], seconds: float) -> None:
        self._due[task] = self.loop.time() + seconds
        if not self._sweeping:
            self._sweeping = True
            self.loop.call_later(SWEEP, self._sweep)

    def disarm(self, task: asyncio.Task[Any]) -> bool:
        """Forget the task's deadline; whether it had passed (and the task was cancelled for it)."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _sweep(self) -> None:
        now = self.loop.time()
        for task, due in list(self._due.items()):
            if due <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
        self._sweeping = bool(self._due)
        if self._sweeping:
            self.loop.call_later(SWEEP, self._sweep)


@dataclass
class Drivers:
    """What an event loop's plans are driven with."""

    transport: LoopHTTP
    ledger: LedgerWriter
    blocking: Executor
    redis: AsyncRedis | None = None  # the loop's client to the jobs' Redis (None: scripts on a thread)
    scripts: ScriptBatch | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.redis is not None:
            self.scripts = ScriptBatch(self.redis)

    async def close(self) -> None:
        """Close the HTTP pool and write the ledger records and scripts that wait (on the loop)."""
        try:
            await self.transport.close()
        finally:
            await self.ledger.close()
            if self.scripts is not None:
                await self.scripts.close()


#: ``drive``'s ``effect`` when the plan has not started yet.
UNSTARTED: Any = object()


async def drive(steps: Plan[Any], drivers: Drivers, effect: Any = UNSTARTED) -> Any:
    """Run a plan on the running loop; its return value. ``effect``: the one the plan yielded
    already, when its start ran before (:meth:`rq_ext.eventloop.FusionAsyncWorker._start_task`)."""
    loop = asyncio.get_running_loop()
    try:
        if effect is UNSTARTED:
            effect = next(steps)
        while True:
            try:
                if isinstance(effect, Request):
                    result: Any = await drivers.transport.send(effect)
                elif isinstance(effect, Record):
                    await drivers.ledger.record(effect)
                    result = None
                elif isinstance(effect, Call):
                    result = await loop.run_in_executor(drivers.blocking, effect.fn, *effect.args)
                elif isinstance(effect, Script):
                    result = await script(effect, drivers)
                elif isinstance(effect, Together):
                    result = await together(effect, drivers)
                else:
                    raise TypeError(f"a plan yielded {type(effect).__name__}, which is no effect")
            except Exception as exc:
                effect = steps.throw(exc)
            else:
                effect = steps.send(result)
    except StopIteration as stop:
        return stop.value


async def together(effect: Together, drivers: Drivers) -> list[Any]:
    """The sub-plans of ``effect`` as tasks of the running loop, ``limit`` at a time."""
    gate = asyncio.Semaphore(effect.limit)

    async def one(steps: Plan[Any]) -> Any:
        async with gate:
            return await drive(steps, drivers)

    results = await asyncio.gather(*(one(steps) for steps in effect.plans), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def script(effect: Script, drivers: Drivers) -> Any:
    """A Lua script through the loop's Redis client, batched with the other plans' (on a thread
    without one)."""
    keys, args = list(effect.keys), list(effect.args)
    if drivers.scripts is None:
        run = scripts.run
        return await asyncio.get_running_loop().run_in_executor(
            drivers.blocking, run, effect.connection, effect.source, keys, args
        )
    return await drivers.scripts.run(effect.source, keys, args)
