"""``python -m bench.log_line``: the worker CPU of one job's outcome line.

Every job's outcome is one INFO record (``rq_ext.events.emit``) through the worker's own log set-up
(``wrappers.logger.setup_logging``: the masking filter, the JSON formatter, a stream handler),
here writing to ``/dev/null``. Each record has a fresh job id (a UUID, as rq makes them) and the
context fields a job carries (queue, channel, gateway, outcome...). Prints microseconds per
record, best of 5 repeats. Compare with the worker CPU per job of ``make bench``.
"""

from __future__ import annotations

import logging
import os
import sys
import timeit
import uuid

from wrappers.logger import setup_logging


def one_record(log: logging.Logger) -> None:
    job_id = str(uuid.uuid4())
    labels = {"queue": "sms", "job_id": job_id, "channel": "sms", "gateway": "twilio", "attempt": 1}
    extra = {**labels, "event": "job", "outcome": "finished", "duration": 0.01, "wait": 0.1, "reason": ""}
    log.info("job %s %s in %.3fs%s", job_id, "finished", 0.01, "", extra=extra)


def cost(number: int = 5_000) -> float:
    """Seconds per outcome record."""
    log = logging.getLogger("fusion.jobs")
    return min(timeit.repeat(lambda: one_record(log), number=number, repeat=5)) / number


def main() -> None:
    out = sys.stdout
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull  # setup_logging's handler writes to sys.stderr
        try:
            setup_logging("INFO")
            seconds = cost()
        finally:
            sys.stderr = sys.__stderr__
    out.write(f"one job outcome line (JSON, masked): {seconds * 1e6:.1f} us\n")


if __name__ == "__main__":
    main()
