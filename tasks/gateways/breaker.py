r"""A circuit breaker per gateway account, shared by every worker through Redis.

A gateway that is down would cost every job its full timeout before the fallback is tried, on
every worker, for as long as it is down. So, per account (``<gateway>/<label>``) and channel:

- **closed**: attempts go through; ``BREAKER_FAILURES`` retryable failures in a row, or a share
  ``BREAKER_FAILURE_RATE`` of failed attempts among at least ``BREAKER_MIN_CALLS`` in a
  ``BREAKER_WINDOW``, open it. Permanent failures do not count; a provider's refusal proves the
  gateway up and ends the run of failures.
- **open** for ``BREAKER_COOLDOWN`` seconds: the account is skipped without a request
  (:class:`~errors.CircuitOpen`): the next fallback account is tried; with none left the job is
  deferred (:class:`~errors.Deferred`) for the rest of the cool-down, without counting a retry.
- **half-open** after the cool-down: exactly one attempt, on one worker, is the probe (others
  keep skipping, for at most ``BREAKER_PROBE_TIMEOUT``); its success closes the breaker, its
  retryable failure opens it for another cool-down.

Each step is one Lua call (:mod:`tasks.gateways.breaker_scripts`) of the plan :func:`guard`
wraps around an attempt: the admission a :class:`~rq_ext.sansio.Script` effect (on the event
loop through its own Redis client), the rarer settling steps :class:`~rq_ext.sansio.Call`\ s. A Redis error in
the breaker never fails a job: it is logged and the attempt goes ahead as if closed. Outside a
worker (a direct call of a job function: no job) there is no breaker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from config import Settings, get_settings
from errors import CircuitOpen, Deferred, DestinationRefused, FusionError, ProviderRejected, RetryableError
from rq_ext import contract, sansio
from rq_ext.sansio import Call, Plan, Script
from tasks.gateways import breaker_scripts as scripts
from tasks.gateways.accounts import Account

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Milliseconds a breaker hash (and its index entry) outlives its last write.
TTL_MS = 24 * 3600 * 1000
#: Shortest deferral of a job whose only account is skipped (a cool-down about to end).
MIN_DEFERRAL = 0.5
#: What a breaker step meets when Redis fails it (it then goes on as if closed).
REDIS_ERRORS = (redis.RedisError, OSError)
#: Verdicts of the admit script.
CLOSED, PROBE, OPEN, PROBING = 0, 1, 2, 3


@dataclass(frozen=True)
class Policy:
    """The breaker settings, in the units the scripts take."""

    failures: int
    rate: float
    min_calls: int
    window_ms: int
    cooldown_ms: int
    probe_ms: int

    @classmethod
    def of(cls, s: Settings) -> Policy:
        return cls(
            failures=s.BREAKER_FAILURES,
            rate=s.BREAKER_FAILURE_RATE,
            min_calls=s.BREAKER_MIN_CALLS,
            window_ms=int(s.BREAKER_WINDOW * 1000) if s.BREAKER_FAILURE_RATE > 0 else 0,
            cooldown_ms=max(1, int(s.BREAKER_COOLDOWN * 1000)),
            probe_ms=max(1, int(s.BREAKER_PROBE_TIMEOUT * 1000)),
        )


@dataclass(frozen=True)
class Ticket:
    """What the admission said: whether this attempt is the probe, the failures in a row seen,
    and whether Redis answered (a ticket issued failing open writes nothing afterwards)."""

    probe: bool = False
    failures: int = 0
    live: bool = True

    @property
    def to_settle(self) -> bool:
        """Whether a success or a release has anything to write (else it is no Redis call)."""
        return self.live and (self.probe or self.failures > 0)


class Breaker:
    """The breaker of one account on one channel."""

    def __init__(self, connection: Any, account: Account, channel: str, policy: Policy) -> None:
        self.connection = connection
        self.account = account
        self.channel = channel
        self.policy = policy
        self.key = contract.breaker_key(channel, account.gateway, account.label)
        self.name = f"{account.gateway}/{account.label}"

    def _call(self, source: str, keys: list[str], args: list[Any]) -> Any:
        return self.connection.register_script(source)(keys=keys, args=args, client=self.connection)

    def _safely(self, step: Callable[[], T], what: str, default: T) -> T:
        try:
            return step()
        except REDIS_ERRORS as exc:
            self._warn(what, exc)
            return default

    def _warn(self, what: str, exc: BaseException) -> None:
        log.warning(
            "%s circuit breaker of %s: Redis error on %s (%s); going on as if closed",
            self.channel,
            self.name,
            what,
            type(exc).__name__,
        )

    def admit(self) -> Ticket:
        """A ticket to send, or :class:`CircuitOpen` when the account is to be skipped."""
        return sansio.run(self.plan_admit())

    def plan_admit(self) -> Plan[Ticket]:
        """:meth:`admit` as a plan: its script a :class:`~rq_ext.sansio.Script` effect (on the
        event loop, through the loop's own Redis client)."""
        stat = f"{contract.BREAKER_SKIPS_STAT}{self.channel}:{self.account.gateway}"
        args = (self.policy.probe_ms, self.policy.window_ms, TTL_MS, stat)
        try:
            reply = yield Script(self.connection, scripts.ADMIT, (self.key, contract.STATS), args)
        except REDIS_ERRORS as exc:
            self._warn("admit", exc)
            return Ticket(live=False)
        verdict, wait_ms, failures = (int(v) for v in reply)
        if verdict in (OPEN, PROBING):
            raise self._open(verdict, wait_ms)
        if verdict == PROBE:
            log.info("%s circuit of %s half-open: this attempt is the probe", self.channel, self.name)
        return Ticket(probe=verdict == PROBE, failures=failures)

    def _open(self, verdict: int, wait_ms: int) -> CircuitOpen:
        wait = wait_ms / 1000.0
        if verdict == PROBING:
            wait = min(wait, self.policy.cooldown_ms / 1000.0)
        until = time.strftime("%H:%M:%S", time.gmtime(time.time() + wait))
        what = "open" if verdict == OPEN else "half-open (a probe is running)"
        message = f"circuit {what} for {self.channel} gateway {self.name} until {until}Z ({wait:.1f} s)"
        return CircuitOpen(message, retry_after=max(wait, MIN_DEFERRAL))

    def failed(self, ticket: Ticket, exc: RetryableError) -> None:
        """Count a retryable failure; open the breaker at the threshold (or a failed probe)."""
        if not ticket.live:
            return
        p = self.policy
        stat = f"{contract.BREAKER_TRIPS_STAT}{self.channel}:{self.account.gateway}"
        args: list[Any] = [int(ticket.probe), p.failures, p.rate, p.min_calls, p.window_ms, p.cooldown_ms, TTL_MS]
        args += [type(exc).__name__, self.channel, self.account.gateway, self.account.label, stat]
        keys = [self.key, contract.BREAKERS, contract.STATS]
        reply = self._safely(lambda: self._call(scripts.FAILED, keys, args), "failure", None)
        if reply is not None and int(reply[0]):
            log.warning(
                "%s circuit of %s opened for %g s (%s; %d failure(s) in a row)",
                self.channel,
                self.name,
                p.cooldown_ms / 1000.0,
                "the probe failed" if ticket.probe else "threshold reached",
                int(reply[1]),
            )

    def succeeded(self, ticket: Ticket) -> None:
        """The gateway answered: the probe closes the breaker; a run of failures ends."""
        if not ticket.to_settle:
            return
        keys, args = [self.key, contract.BREAKERS], [int(ticket.probe)]
        closed = self._safely(lambda: self._call(scripts.SUCCEEDED, keys, args), "success", 0)
        if closed:
            log.info("%s circuit of %s closed: the probe succeeded", self.channel, self.name)

    def released(self, ticket: Ticket) -> None:
        """The probe ended without an answer from the gateway: the next attempt probes."""
        if ticket.live and ticket.probe:
            self._safely(lambda: self._call(scripts.RELEASED, [self.key], []), "release", 0)


def breaker_for(account: Account, channel: str, job: Any) -> Breaker | None:
    """The account's breaker in ``job``, or None (breakers off, or no job around the call)."""
    settings = get_settings()
    if not settings.BREAKER_ENABLED or job is None or job.connection is None:
        return None
    return Breaker(job.connection, account, channel, Policy.of(settings))


def _answered(exc: BaseException) -> bool:
    """Whether a permanent failure came from the gateway itself (it is up, then)."""
    return isinstance(exc, ProviderRejected) and not isinstance(exc, DestinationRefused)


def guard(account: Account, channel: str, attempt: Callable[[Account], Plan[None]], job: Any) -> Plan[None]:
    """The plan ``attempt(account)`` run through the account's breaker in ``job`` (each breaker
    step a :class:`~rq_ext.sansio.Call`; :class:`CircuitOpen` if the account is skipped)."""
    breaker = breaker_for(account, channel, job)
    if breaker is None:
        yield from attempt(account)
        return
    ticket: Ticket = yield from breaker.plan_admit()
    try:
        yield from attempt(account)
    except RetryableError as exc:
        yield Call(breaker.failed, (ticket, exc))
        raise
    except GeneratorExit:
        # The plan was closed under a request (its driver gave up on it): no effect can be
        # yielded any more, so the probe is handed back here, on this thread.
        breaker.released(ticket)
        raise
    except BaseException as exc:
        if ticket.to_settle:
            yield Call(breaker.succeeded if _answered(exc) else breaker.released, (ticket,))
        raise
    if ticket.to_settle:  # the common case, a closed breaker with no failures, writes nothing
        yield Call(breaker.succeeded, (ticket,))


def exhausted(failures: list[RetryableError]) -> FusionError:
    """The error of a job whose every account failed or was skipped (every reason in it).

    All skipped: :class:`Deferred` until the soonest cool-down ends. Otherwise the last real
    failure's class (the job is retried), as without breakers."""
    reason = "; ".join(str(f) for f in failures)
    real = [f for f in failures if not isinstance(f, CircuitOpen)]
    if not real:
        return Deferred(reason, delay=min(f.retry_after or MIN_DEFERRAL for f in failures))
    return type(real[-1])(reason, retry_after=real[-1].retry_after)
