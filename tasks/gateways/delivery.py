"""Sending one SMS job: gateway by gateway (fallback), batch by batch, rate-limited, never twice.

- A *retryable* failure of a gateway (timeout, 5xx, 429, "queue full") moves on to the next
  gateway of the ``fallback`` list within the same attempt; when the last one fails too, the job
  is retried with every gateway's reason.
- A *permanent* failure (bad credentials, invalid number, DND, DLT mismatch) does not fall back:
  another gateway would most likely refuse the same message, and the user must see the reason.
- Numbers already accepted are recorded in the job's delivery ledger (:mod:`rq_ext.ledger`), so a
  retry, a fallback or a recovered job never sends to them again.
- Each number has its own outcome: an answer that accepts one number and refuses another records
  the first and keeps the refusal of the second (:attr:`Ledger.refused`); a retryable refusal
  raises (after the accepted numbers are recorded), so only the refused numbers are tried again;
  a permanent refusal of some numbers does not stop the others (the job decides at the end:
  :func:`tasks.sms.outcome_of`).

Sending is a plan (:mod:`rq_ext.sansio`): the requests, the ledger writes, the rate limit and the
breaker steps are its effects; :func:`plan_deliver` gets the job explicitly (None outside a
worker: no breaker, no ledger, no client reference). :func:`deliver` drives it on this thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from errors import DestinationRefused, InvalidRecipient, PermanentError, ProviderRejected, RetryableError
from rq_ext import sansio
from rq_ext.ledger import Ledger as JobLedger
from rq_ext.sansio import Call, Plan, Record
from tasks.gateways import breaker, engine, numbers, ratelimit, registry
from tasks.gateways.accounts import Account
from tasks.gateways.encoding import Encoding
from tasks.gateways.spec import Gateway, Outbound, Refusal, Sent
from wrappers.masking import mask_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sms:
    """What one job sends: E.164 numbers, the text and its encoding, sender and DLT template."""

    numbers: tuple[str, ...]
    text: str
    encoding: Encoding
    sender: str | None = None
    template_id: str | None = None


class Ledger:
    """Numbers a provider accepted for this job: number -> (gateway, provider message id).

    Kept in the job's delivery ledger (:mod:`rq_ext.ledger`, one Redis hash per job) as
    ``<gateway>|<message id>``; outside a worker it lives in memory only. ``refused`` holds this
    attempt's permanent refusals (number -> (gateway, refusal)), in memory: a retry of the job
    sends to them again. A plan hands its ``job`` in; ``job_id`` and ``connection`` name a
    ledger directly (tests)."""

    def __init__(self, channel: str, job_id: str | None = None, connection: Any = None, *, job: Any = None) -> None:
        self.store = JobLedger(channel, job_id=job_id, connection=connection, job=job)
        self.sent: dict[str, tuple[str, str]] = {}
        self.refused: dict[str, tuple[str, Refusal]] = {}

    @property
    def conn(self) -> Any:
        return self.store.connection

    def load(self, numbers: tuple[str, ...] | list[str]) -> Ledger:
        """Read what was already accepted for these numbers."""
        for number in numbers:
            raw = self.store.accepted(number)
            if raw is not None:
                gateway, _, message_id = raw.partition("|")
                self.sent[number] = (gateway, message_id)
        return self

    def loading(self, numbers: tuple[str, ...] | list[str]) -> Plan[Ledger]:
        """:meth:`load` in a plan: read here when it is free (a first run: the ledger is this
        run's own records; no ledger outside a worker), else a :class:`~rq_ext.sansio.Call`."""
        if self.store.active and self.store.fresh is None:
            loaded: Ledger = yield Call(self.load, (numbers,))
            return loaded
        return self.load(numbers)

    def record(self, batch: list[str], gateway: str, message_id: str) -> Plan[None]:
        """Remember the numbers the provider accepted: in memory, and a ledger write per number."""
        for number in batch:
            self.sent[number] = (gateway, message_id)
            yield Record(self.store, number, f"{gateway}|{message_id}")


def outbound(account: Account, sms: Sms, batch: list[str], number_format: str, job: Any = None) -> Outbound:
    """The request data for one batch: payload values win over the account's defaults; the job's
    id is the client reference."""
    config = account.config
    sender = sms.sender or config.get("sender") or None
    template = sms.template_id or config.get("template_id") or None
    written = tuple(numbers.write(n, number_format) for n in batch)
    unicode, template_id = sms.encoding.unicode, template and str(template)
    reference = None if job is None else str(job.id)
    return Outbound(written, sms.text, sender, unicode, template_id, config, account.url_from_job, reference)


def through(account: Account, sms: Sms, ledger: Ledger, job: Any = None) -> Plan[None]:
    """Send every number not yet accepted or refused through one gateway account."""
    gateway = registry.get(account.gateway)
    pending = [n for n in sms.numbers if n not in ledger.sent and n not in ledger.refused]
    batches = [pending] if gateway.batches_numbers else [[n] for n in pending]
    rate = ratelimit.rate_of(account.config, f"{account.gateway} account {account.label}")
    for batch in (b for b in batches if b):
        if rate is not None:
            label = f"{account.gateway}/{account.label}"
            yield Call(ratelimit.acquire, (ledger.conn, account.key, rate, len(batch), label))
        out = outbound(account, sms, batch, gateway.number_format, job)
        try:
            sent = yield from engine.send(gateway, out)
        except (InvalidRecipient, ProviderRejected) as exc:
            if isinstance(exc, DestinationRefused):
                raise
            sent = Sent(refused={n: Refusal("", exc) for n in out.numbers})  # the request as a whole
        yield from settle(gateway, sms, ledger, dict(zip(out.numbers, batch, strict=True)), sent)


def settle(gateway: Gateway, sms: Sms, ledger: Ledger, e164: dict[str, str], sent: Sent) -> Plan[None]:
    """Record one answer: accepted numbers in the ledger, permanent refusals in ``ledger.refused``;
    then raise the retryable refusals (the reason lists each masked number and its code)."""
    for written, message_id in sent.accepted.items():
        yield from ledger.record([e164[written]], gateway.name, message_id)
    if sent.accepted and log.isEnabledFor(logging.INFO):  # its masked arguments cost ~10 % of a send
        log.info(
            "sms accepted by %s for %s (%d segment(s), %s), id %s",
            gateway.name,
            ", ".join(numbers.masked(e164[n]) for n in sent.accepted),
            sms.encoding.segments,
            sms.encoding.name,
            ", ".join(dict.fromkeys(mask_text(i) for i in sent.accepted.values())),
        )
    retry: list[RetryableError] = []
    for written, refusal in sent.refused.items():
        if isinstance(refusal.error, RetryableError):
            retry.append(refusal.error)
        elif isinstance(refusal.error, PermanentError):
            ledger.refused[e164[written]] = (gateway.name, refusal)
            log.warning("sms refused by %s for %s: %s", gateway.name, numbers.masked(e164[written]), refusal.error)
    if retry:
        after = max((e.retry_after for e in retry if e.retry_after is not None), default=None)
        raise type(retry[0])("; ".join(dict.fromkeys(str(e) for e in retry)), retry_after=after)


def with_fallback(
    accounts: list[Account], attempt: Callable[[Account], Plan[None]], channel: str, job: Any = None
) -> Plan[None]:
    """Run the plan ``attempt`` on the first account, then the next ones while failures are
    retryable; an account whose circuit breaker (in ``job``) is open is skipped
    (:mod:`tasks.gateways.breaker`)."""
    failures: list[RetryableError] = []
    for index, account in enumerate(accounts):
        try:
            yield from breaker.guard(account, channel, attempt, job)
            return
        except RetryableError as exc:
            failures.append(exc)
            if index == len(accounts) - 1:
                raise breaker.exhausted(failures) from exc
            following = accounts[index + 1].gateway
            log.warning("%s gateway %s failed (%s); falling back to %s", channel, account.gateway, exc, following)


def plan_deliver(accounts: list[Account], sms: Sms, ledger: Ledger, job: Any = None) -> Plan[Ledger]:
    """Send through the first account, falling back on retryable failures; the filled ledger."""
    yield from with_fallback(accounts, lambda account: through(account, sms, ledger, job), "sms", job)
    return ledger


def deliver(accounts: list[Account], sms: Sms, ledger: Ledger) -> Ledger:
    """:func:`plan_deliver` outside a worker, driven on this thread (no job: no breaker)."""
    return sansio.run(plan_deliver(accounts, sms, ledger))
