"""Retrying a job: the delay of a local retry, and the body handed to the server's ``/retryTask/``.

The job keeps its hash (status ``scheduled``, ``retryCount`` incremented) so the server can
re-enqueue the same id. When ``FUSION_SERVER`` is unset, or the server refuses the hand-over,
the job goes to ``schedulerSet`` with exponential backoff and jitter, so a retry is never lost.
"""

from __future__ import annotations

import json
import random
from typing import Any

from config import Settings
from errors import InvalidJob


def backoff(settings: Settings, retry_count: int, retry_after: float | None = None) -> float:
    """Seconds before local retry number ``retry_count``: exponential, jittered, capped, at least
    the provider's ``Retry-After`` (itself capped by ``RETRY_BACKOFF_MAX``)."""
    delay = min(settings.RETRY_BACKOFF_MAX, settings.RETRY_BACKOFF_BASE * 2 ** max(0, min(retry_count, 60) - 1))
    delay *= random.uniform(0.5, 1.5)
    return max(delay, min(retry_after or 0.0, settings.RETRY_BACKOFF_MAX))


def handover_body(args: Any) -> str:
    """The job's args list as the JSON ``/retryTask/`` takes; a task that can't be written as
    JSON fails the job with a reason (not the retry step)."""
    try:
        return json.dumps(list(args), default=str)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidJob(
            f"task cannot be handed to /retryTask/: not serialisable as JSON ({type(exc).__name__})"
        ) from None
