"""A background thread in every worker process: promotes due delayed jobs (every
``PROMOTE_INTERVAL``), renews the leases of the jobs in hand (every ``CLAIM_LEASE / 4``),
recovers abandoned jobs (every ``RECOVERY_INTERVAL``), and runs the daily maintenance when due.
It also repairs a priority queue key that rq's own tools turned into a list (every
``QUEUE_TYPE_CHECK`` seconds: producers fail while the key is a list) and, after each daily
maintenance, puts orphaned jobs back into their queue (:mod:`rq_ext.doctor`). It runs whatever
queues the worker serves and whether or not the worker is busy, and never lets an error stop it.

After a Redis outage every live worker's leases may have run out at once. So once Redis answers
again, the housekeeper renews its own leases first, and recovers nothing for two renewal periods:
every live worker has renewed by then, and only a worker that is really gone loses its jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis import Redis

from config import Settings
from rq_ext import doctor, maintenance, orphans, recovery, resilience
from rq_ext.schedule import promote_due
from wrappers import systemd

log = logging.getLogger(__name__)

MAINTENANCE_CHECK = 60.0
#: Seconds between two checks of the queue keys' types.
QUEUE_TYPE_CHECK = 5.0


class Housekeeper:
    """Periodic chores of one worker process, each on its own interval."""

    def __init__(
        self,
        connection: Redis,
        settings: Settings,
        jobs_in_hand: Callable[[], list[str]],
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.jobs_in_hand = jobs_in_hand
        self.renew_every = max(0.5, settings.CLAIM_LEASE / 4)
        self.chores: list[tuple[float, Callable[[], object]]] = [
            (self.renew_every, self.renew),
            (settings.PROMOTE_INTERVAL, lambda: promote_due(self.connection)),
            (settings.RECOVERY_INTERVAL, self.recover),
            (QUEUE_TYPE_CHECK, self.repair_queue_types),
            (MAINTENANCE_CHECK, self.maintain),
        ]
        watchdog = systemd.watchdog_interval()
        if watchdog:
            self.chores.append((watchdog, lambda: alive() and systemd.notify("WATCHDOG=1")))
        self.next_run = [0.0] * len(self.chores)
        self.tick = min(interval for interval, _ in self.chores)
        self._quiet_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_chore(self, interval: float, chore: Callable[[], object]) -> None:
        """One more periodic chore (e.g. the concurrent worker watching its lease keeper)."""
        self.next_run.append(0.0)  # before the chore: the loop indexes next_run by chore
        self.chores.append((interval, chore))
        self.tick = min(self.tick, interval)

    def renew(self) -> None:
        recovery.renew(self.connection, self.jobs_in_hand(), self.settings)

    def repair_queue_types(self) -> None:
        for key, moved in doctor.repair_wrong_types(self.connection).items():
            log.warning(
                "queue key %s was a list (rq's own tools?): %d job(s) moved back into the sorted set", key, moved
            )

    def maintain(self) -> None:
        if maintenance.run_if_due(self.connection, self.settings):
            for orphan in orphans.find_orphans(self.connection, self.settings.DOCTOR_ORPHAN_AGE):
                if orphans.put_back(self.connection, orphan):
                    log.warning("orphaned job %s put back into its queue", orphan.job_id)

    def recover(self) -> None:
        if time.monotonic() >= self._quiet_until:
            recovery.recover_abandoned(self.connection, self.settings)

    def run_once(self) -> None:
        """Run every chore that is due now (all of them, renewal first, right after an outage)."""
        now = time.monotonic()
        for index, (interval, chore) in enumerate(self.chores):
            if now < self.next_run[index]:
                continue
            self.next_run[index] = now + interval
            try:
                chore()
            except resilience.REDIS_DOWN as exc:
                self._outage(type(exc).__name__)
                return
            except Exception as exc:
                log.warning("housekeeping chore failed: %s: %s", type(exc).__name__, exc)

    def _outage(self, what: str) -> None:
        """Redis is unreachable: retry every chore as soon as it answers, recovery only after
        every live worker has had two chances to renew its leases."""
        log.warning("housekeeping: Redis unreachable (%s)", what)
        self.next_run = [0.0] * len(self.chores)
        self._quiet_until = time.monotonic() + 2 * self.renew_every + self.tick

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.tick)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fusion-housekeeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
