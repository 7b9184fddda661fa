"""Sans-I/O job functions: a channel's *plan* says what to do; a driver does the I/O.

A plan is a generator. It yields effects and receives their results; what it returns is the
job's return value. It never touches a socket, so the same plan runs on every worker class:

- :class:`wrappers.transport.Request` -> the provider's :class:`~wrappers.transport.Answer`
  (a transport failure is raised *into* the plan, as the classified error);
- :class:`Record` -> None, once the delivery ledger holds the record (the provider accepted:
  the write waits out a Redis outage);
- :class:`Call` -> what ``fn(*args)`` returns: blocking work with no sans-I/O form (a Redis
  script of a rate limit or breaker, boto3). The event loop runs it on a thread;
- :class:`Script` -> a Lua script's reply from the job's Redis (a breaker's or rate limit's
  step): on a thread through the job's connection, on the loop through its asyncio client;
- :class:`Together` -> the return values of several sub-plans run at once (one job's requests
  to one provider, e.g. a push to many devices): on threads, or as tasks of the loop.

A job function offers its plan with :func:`plan`::

    def plan_webhook(task, job): ...            # a generator, or None: "run me blocking"

    @sansio.plan(plan_webhook)
    def send_webhook(task): ...                 # = sansio.run(plan_webhook(task, current job))

:func:`run` is the blocking driver (fork, simple and concurrent classes, and direct calls); the
event-loop driver is :mod:`rq_ext.aio`. A plan gets its job as an argument (``None`` outside
a worker) and never calls ``get_current_job``: on an event loop, many jobs share a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from rq_ext import scripts
from rq_ext.ledger import Ledger
from wrappers import transport
from wrappers.transport import Request


@dataclass(frozen=True, slots=True)
class Record:
    """Remember in the job's delivery ledger that the provider accepted ``item``."""

    ledger: Ledger
    item: str
    value: str = "accepted"


@dataclass(frozen=True, slots=True)
class Call:
    """Blocking work with no sans-I/O form: ``fn(*args)``."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Script:
    """Run the Lua ``source`` on the job's Redis (``connection``; an event loop sends it through
    its own client to the same server): its reply. A Redis error is raised into the plan."""

    connection: Any
    source: str
    keys: tuple[str, ...]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Together:
    """Run ``plans`` at once, at most ``limit`` at a time: their return values, in order. If
    any raised, the first such error is raised once all have ended."""

    plans: tuple[Generator[Any, Any, Any], ...]
    limit: int = 16


Effect = Request | Record | Call | Script | Together
R = TypeVar("R")
Plan = Generator[Effect, Any, R]
#: ``(task, job) -> plan``, or None when this task has no sans-I/O form.
PlanFn = Callable[[Any, Any], "Plan[Any] | None"]
F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__fusion_plan__"


def plan(planner: PlanFn) -> Callable[[F], F]:
    """Mark a job function as having the sans-I/O form ``planner``."""

    def mark(fn: F) -> F:
        setattr(fn, ATTRIBUTE, planner)
        return fn

    return mark


def planner_of(fn: Any) -> PlanFn | None:
    """The sans-I/O form of a job function, if it has one."""
    return getattr(fn, ATTRIBUTE, None)


def perform(effect: Effect) -> Any:
    """Do one effect on this thread."""
    if isinstance(effect, Request):
        return transport.send(effect)
    if isinstance(effect, Record):
        effect.ledger.record(effect.item, effect.value)
        return None
    if isinstance(effect, Call):
        return effect.fn(*effect.args)
    if isinstance(effect, Script):
        return scripts.run(effect.connection, effect.source, list(effect.keys), list(effect.args))
    if isinstance(effect, Together):
        with ThreadPoolExecutor(min(effect.limit, len(effect.plans)), thread_name_prefix="fusion-together") as pool:
            return list(pool.map(run, effect.plans))
    raise TypeError(f"a plan yielded {type(effect).__name__}, which is no effect")


def run(steps: Plan[R]) -> R:
    """Drive a plan on this thread, blocking on each effect; its return value."""
    try:
        effect = next(steps)
        while True:
            try:
                result = perform(effect)
            except Exception as exc:
                effect = steps.throw(exc)
            else:
                effect = steps.send(result)
    except StopIteration as stop:
        return stop.value


def reading(ledger: Ledger, fn: Callable[..., R], *args: Any) -> Plan[R]:
    """``fn(*args)``, a read of ``ledger``, in a plan: done here when it is free (a first run: the
    ledger is this run's own records; no ledger outside a worker), else a :class:`Call` (a Redis
    read, which an event loop runs on a thread)."""
    if ledger.active and ledger.fresh is None:
        result: R = yield Call(fn, args)
        return result
    return fn(*args)


def together(plans: list[Plan[R]], limit: int = 16) -> Plan[list[R]]:
    """The return values of ``plans``, run at once (:class:`Together`); a single plan runs
    right here."""
    if not plans:
        return []
    if len(plans) == 1:
        return [(yield from plans[0])]
    results: list[R] = yield Together(tuple(plans), limit)
    return results


def nothing() -> Plan[None]:
    """A plan with no effect (a job function that does no I/O)."""
    return
    yield  # pragma: no cover - makes this a generator
