"""The outbox sender: delivers callbacks and ``/retryTask/`` hand-overs from Redis.

Every worker process runs one (threads beside the job loop, so a slow receiver never delays a
job). Any sender delivers any entry; an entry is leased to one sender at a time
(:func:`rq_ext.outbox.lease`). A callback:

- 2xx: done;
- 408, 429, 5xx, a timeout or a connection error: tried again with exponential backoff and
  jitter (``OUTBOX_BACKOFF_BASE`` doubling up to ``OUTBOX_BACKOFF_MAX``, at least the
  receiver's ``Retry-After``) until ``OUTBOX_HORIZON`` after the outcome, then given up;
- any other answer (a 3xx or 4xx), or a URL refused by the network guard
  (``CALLBACK_ALLOWED_NETWORKS``; callbacks are sent to the address the guard checked): given up
  at once.

A hand-over POSTs the job's args to ``FUSION_SERVER/retryTask/``; on anything but a 2xx the job
is scheduled locally instead (``schedulerSet``, the entry's backoff), so a retry is never lost.
Every give-up is logged and counted (``fusion:stats`` ``outbox_given_up:<kind>``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any
from urllib.parse import urlencode

import requests
from redis import Redis

from config import Settings
from errors import FusionError
from rq_ext import outbox, resilience
from rq_ext.outbox import Entry
from wrappers import http, pinned, ssrf
from wrappers.masking import mask_text

log = logging.getLogger(__name__)

#: Entries one sender thread leases at a time.
BATCH = 8
#: Bytes of a callback's answer read (the rest is dropped with the connection).
ANSWER_CAP = 16 * 1024


class Undeliverable(Exception):
    """A delivery that will never succeed (its reason is the message)."""


class Unanswered(Exception):
    """A delivery that may succeed later; ``retry_after`` is the receiver's wish, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def check_answer(status: int, retry_after: float | None) -> None:
    """Raise unless ``status`` means delivered."""
    if 200 <= status < 300:
        return
    if status in (408, 429) or status >= 500:
        raise Unanswered(f"HTTP {status}", retry_after)
    raise Undeliverable(f"HTTP {status}")


def post_callback(url: str, timeout: float, key: str, fields: dict[str, str]) -> None:
    """One form POST to a callback URL through the network guard (``CALLBACK_ALLOWED_NETWORKS``,
    the pinned address); raises :class:`Unanswered` or :class:`Undeliverable` unless a 2xx."""
    headers = {"Idempotency-Key": key, "Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode(fields).encode()
    try:
        response = pinned.request("POST", url, "callback", timeout, headers=headers, data=body, rule=ssrf.CALLBACK)
    except FusionError as exc:
        raise (Unanswered if exc.retryable else Undeliverable)(mask_text(str(exc))) from None
    try:
        _, more = pinned.read_capped(response, ANSWER_CAP, "callback")
        response.close(read_all=not more)
    except FusionError:
        response.close()
    check_answer(response.status_code, _retry_after(response))


def post(url: str, timeout: float, key: str, **request: Any) -> None:
    """One POST (to a trusted URL); raises :class:`Unanswered` or :class:`Undeliverable` unless a 2xx."""
    headers = {"Idempotency-Key": key, **request.pop("headers", {})}
    try:
        response = http.session().post(url, timeout=timeout, allow_redirects=False, headers=headers, **request)
    except requests.RequestException as exc:
        raise Unanswered(type(exc).__name__) from None
    try:
        check_answer(response.status_code, _retry_after(response))
    finally:
        response.close()


def _retry_after(response: Any) -> float | None:
    try:
        return http.retry_after(response)
    except (TypeError, ValueError, OverflowError):
        return None


class Sender:
    """Delivers outbox entries on ``threads`` daemon threads until stopped."""

    def __init__(self, connection: Redis, settings: Settings) -> None:
        self.connection = connection
        self.settings = settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        #: When an idle thread last took its turn to poll: the idle threads of one process
        #: poll once per ``OUTBOX_POLL`` between them, not once each.
        self._turn_lock = threading.Lock()
        self._polled_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        for n in range(self.settings.OUTBOX_SENDERS):
            thread = threading.Thread(target=self._loop, name=f"fusion-outbox-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """An outcome of this process wrote an entry: look now instead of at the next poll."""
        self._wake.set()

    def drain(self, seconds: float) -> int:
        """Deliver what is due now, for ``seconds`` at most (a burst worker's last act, so its
        callbacks need not wait for another worker). Returns how many were tried."""
        deadline = time.monotonic() + seconds
        lease = self.lease
        due = resilience.tolerate_outage(lambda: outbox.due_now(self.connection), "outbox", 0)
        tried = 0
        while tried < due and time.monotonic() < deadline:
            most = min(BATCH, due - tried)
            none: list[Entry] = []
            leased_at = time.monotonic()
            leased = resilience.tolerate_outage(
                lambda: outbox.lease(self.connection, most, lease),  # noqa: B023
                "outbox",
                none,
            )
            if not leased:
                break
            self._deliver_leased(leased, leased_at)
            tried += len(leased)
        return tried

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the deliveries under way (undelivered entries stay in Redis)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        self._threads = []

    # -- delivery --------------------------------------------------------------------------

    @property
    def lease(self) -> float:
        """How long a sender holds the entries it leased: two deliveries at their timeout."""
        return 2 * self._one_delivery + 5

    @property
    def _one_delivery(self) -> float:
        return max(self.settings.CALLBACK_TIMEOUT, self.settings.RETRY_TASK_TIMEOUT) + 1

    def _deliver_leased(self, leased: list[Entry], leased_at: float) -> None:
        """Deliver in order while the lease surely covers one more delivery; the rest go back to
        any sender when the lease runs out (never two senders on one entry at once)."""
        last_start = leased_at + self.lease - self._one_delivery
        for entry in leased:
            if time.monotonic() > last_start:
                return
            self.deliver(entry)

    def _loop(self) -> None:
        lease = self.lease
        while not self._stop.is_set():
            leased_at = time.monotonic()
            leased = resilience.tolerate_outage(
                lambda: outbox.lease(self.connection, BATCH, lease), "outbox lease", None
            )
            self._deliver_leased(leased or [], leased_at)
            if not leased:
                self._idle(self.settings.OUTBOX_POLL if leased is not None else 1.0)

    def _idle(self, pause: float) -> None:
        """Wait for a wake-up or for this thread's turn to poll: of the idle threads, one polls
        per ``pause`` (an idle worker costs one lease call per interval, however many senders)."""
        with self._turn_lock:
            self._polled_at = time.monotonic()
        wait = pause
        while not self._stop.is_set():
            if self._wake.wait(wait):
                self._wake.clear()
                return
            with self._turn_lock:
                since = time.monotonic() - self._polled_at
                if since >= pause:  # no other thread polled meanwhile: this one's turn
                    self._polled_at = time.monotonic()
                    return
            wait = max(0.01, pause - since)

    def deliver(self, entry: Entry) -> None:
        """Try one entry once and settle it: done, again later, given up or scheduled locally."""
        try:
            if entry.kind == outbox.HANDOVER:
                self._hand_over(entry)
            else:
                self._call_back(entry)
        except resilience.REDIS_DOWN as exc:  # the lease runs out and any sender tries again
            log.warning("outbox entry %s not settled, Redis unreachable (%s)", entry.id, type(exc).__name__)
        except Exception:  # a sender thread must never die
            log.exception("outbox entry %s could not be delivered", entry.id)

    def _call_back(self, entry: Entry) -> None:
        try:
            post_callback(entry.url, self.settings.CALLBACK_TIMEOUT, entry.id, entry.fields)
        except Undeliverable as exc:
            self._give_up(entry, str(exc))
            return
        except Unanswered as exc:
            self._again(entry, exc)
            return
        outbox.done(self.connection, entry)
        log.debug("%s callback of job %s delivered", entry.outcome, entry.job_id)

    def _hand_over(self, entry: Entry) -> None:
        server = self.settings.FUSION_SERVER
        try:
            if not server:
                raise Undeliverable("FUSION_SERVER is not set")
            url = server.rstrip("/") + "/retryTask/"
            body = entry.body.encode()
            headers = {"Content-Type": "application/json"}
            post(url, self.settings.RETRY_TASK_TIMEOUT, entry.id, data=body, headers=headers)
        except (Undeliverable, Unanswered) as exc:
            scheduled = outbox.schedule_locally(self.connection, entry)
            where = "scheduled locally" if scheduled else "already taken again"
            log.warning("retryTask for job %s failed (%s); %s", entry.job_id, exc, where)
            return
        outbox.done(self.connection, entry)

    def _again(self, entry: Entry, exc: Unanswered) -> None:
        delay = backoff(self.settings, entry.attempts, exc.retry_after)
        if entry.created + self.settings.OUTBOX_HORIZON < time.time() + delay:
            self._give_up(entry, f"{exc} (OUTBOX_HORIZON reached)")
            return
        log.warning(
            "%s callback to %s failed (%s), attempt %d; next in %.1fs",
            entry.outcome,
            mask_text(entry.url),
            exc,
            entry.attempts + 1,
            delay,
        )
        outbox.again(self.connection, entry, delay, str(exc))

    def _give_up(self, entry: Entry, reason: str) -> None:
        if outbox.give_up(self.connection, entry, reason):
            log.error(
                "%s callback of job %s given up after %d attempt(s): %s",
                entry.outcome,
                entry.job_id,
                entry.attempts,
                mask_text(reason),
            )


def backoff(settings: Settings, attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try: exponential with jitter, capped, at least ``retry_after``."""
    delay = min(settings.OUTBOX_BACKOFF_MAX, settings.OUTBOX_BACKOFF_BASE * 2**attempts)
    delay *= random.uniform(0.5, 1.5)
    return max(delay, min(retry_after or 0.0, settings.OUTBOX_BACKOFF_MAX))
