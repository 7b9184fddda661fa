"""Group commit on an event loop: what the loop's jobs write to Redis goes in one round trip per
batch instead of one per job.

- :class:`GroupCommit`: the first item starts a write; the items that come while it is in flight
  go together in the next (the ledger's records, the finishes, the scripts below).
- :class:`ScriptBatch`: the Lua scripts the loop's plans run (:class:`~rq_ext.sansio.Script`:
  a breaker's admission before each send) in one pipeline per batch, each by its SHA; the
  scripts Redis lacks (restarted, flushed: those calls did not run) are loaded and run again in
  one more round trip. Each
  plan gets its own script's reply or error, as if it had run alone; a failed round trip raises
  its error into every plan of the batch.

Measured on the SMS path (`python -m bench.run --only sms --match "AsyncWorker c=64"`,
docs/performance.md): one admission per send was a round trip of its own, ~70 µs of the
worker's CPU per job through redis-py's asyncio client; in a pipeline a script costs ~13-38 µs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import NoScriptError

from rq_ext import scripts

T = TypeVar("T")

#: Most scripts sent in one round trip.
MAX_SCRIPTS = 256


class GroupCommit(Generic[T]):
    """Items written in batches of at most ``limit`` on an event loop by ``write``: the first
    item starts a write; the items that come while it is in flight go together in the next."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]], limit: int) -> None:
        self.write = write
        self.limit = limit
        self._waiting: list[T] = []
        self._writing: asyncio.Task[None] | None = None

    def add(self, item: T, loop: asyncio.AbstractEventLoop) -> None:
        """Queue ``item`` (on ``loop``, the running loop)."""
        self._waiting.append(item)
        if self._writing is None:
            self._writing = loop.create_task(self._write_all())

    async def close(self) -> None:
        """Return once every item added is written."""
        while self._writing is not None:
            await self._writing

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
                await self.write(batch)
        finally:
            self._writing = None


def settle(futures: list[asyncio.Future[Any]], replies: list[Any]) -> None:
    """Each future its reply (an exception: raised into its awaiter); a future already done (its
    plan was cancelled, its job timed out, meanwhile) is left as it is."""
    for future, reply in zip(futures, replies, strict=True):
        if future.done():
            continue
        if isinstance(reply, BaseException):
            future.set_exception(reply)
        else:
            future.set_result(reply)


@dataclass(frozen=True, slots=True)
class Queued:
    """A script waiting for its batch, and the future its plan awaits."""

    source: str
    keys: list[str]
    args: list[Any]
    future: asyncio.Future[Any]


class ScriptBatch:
    """Runs the loop's scripts through ``client`` in one pipeline per batch (see the module)."""

    def __init__(self, client: AsyncRedis, limit: int = MAX_SCRIPTS) -> None:
        self.client = client
        self._batches: GroupCommit[Queued] = GroupCommit(self._write, limit)

    async def run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """The script's reply (raises its error, or the round trip's)."""
        loop = asyncio.get_running_loop()
        queued = Queued(source, keys, args, loop.create_future())
        self._batches.add(queued, loop)
        return await queued.future

    async def close(self) -> None:
        """Return once every script queued has run."""
        await self._batches.close()

    async def _write(self, batch: list[Queued]) -> None:
        replies: list[Any]
        try:
            replies = await self._send(batch)
        except Exception as exc:  # the round trip failed: no plan knows whether its script ran
            replies = [exc] * len(batch)
        settle([q.future for q in batch], replies)

    async def _send(self, batch: list[Queued]) -> list[Any]:
        replies = await self._pipeline(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:  # those calls did not run (Redis restarted, or flushed): load, run them again
            for source in dict.fromkeys(batch[i].source for i in missing):
                await self.client.script_load(source)
            again = await self._pipeline([batch[i] for i in missing])
            for index, reply in zip(missing, again, strict=True):
                replies[index] = reply
        return replies

    async def _pipeline(self, batch: list[Queued]) -> list[Any]:
        async with self.client.pipeline(transaction=False) as pipe:
            for q in batch:
                pipe.evalsha(scripts.sha_of(q.source), len(q.keys), *q.keys, *q.args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
