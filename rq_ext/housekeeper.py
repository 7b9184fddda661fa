"""A background thread in every worker process: promotes due delayed jobs (every
``PROMOTE_INTERVAL``), recovers abandoned jobs (every ``RECOVERY_INTERVAL``), renews the leases
of the jobs in hand, and runs the daily maintenance when due. It runs whatever queues the
worker serves and whether or not the worker is busy, and never lets an error stop it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis import Redis

from config import get_settings
from rq_ext import maintenance, recovery
from rq_ext.schedule import promote_due
from wrappers import systemd

log = logging.getLogger(__name__)

MAINTENANCE_CHECK = 60.0


class Housekeeper:
    """Periodic chores of one worker process, each on its own interval."""

    def __init__(
        self,
        connection: Redis,
        jobs_in_hand: Callable[[], list[str]],
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        settings = get_settings()
        self.connection = connection
        self.jobs_in_hand = jobs_in_hand
        self.chores: list[tuple[float, Callable[[], object]]] = [
            (settings.PROMOTE_INTERVAL, lambda: promote_due(self.connection)),
            (settings.RECOVERY_INTERVAL, lambda: recovery.recover_abandoned(self.connection)),
            (max(0.5, settings.CLAIM_LEASE / 4), lambda: recovery.renew(self.connection, self.jobs_in_hand())),
            (MAINTENANCE_CHECK, lambda: maintenance.run_if_due(self.connection)),
        ]
        watchdog = systemd.watchdog_interval()
        if watchdog:
            self.chores.append((watchdog, lambda: alive() and systemd.notify("WATCHDOG=1")))
        self.next_run = [0.0] * len(self.chores)
        self.tick = min(interval for interval, _ in self.chores)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        """Run every chore that is due now."""
        now = time.monotonic()
        for index, (interval, chore) in enumerate(self.chores):
            if now < self.next_run[index]:
                continue
            self.next_run[index] = now + interval
            try:
                chore()
            except Exception as exc:
                log.warning("housekeeping chore failed: %s: %s", type(exc).__name__, exc)

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
