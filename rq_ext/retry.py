"""Retrying a job: hand it to the server's ``/retryTask/``, or schedule it locally with backoff.

The job keeps its hash (status ``scheduled``, ``retryCount`` incremented) so the server can
re-enqueue the same id. When ``FUSION_SERVER`` is unset, or the POST fails, the job goes to
``schedulerSet`` with exponential backoff and jitter, so a retry is never lost.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

import requests
from redis import Redis

from config import get_settings
from rq_ext import contract
from rq_ext.classify import Failure
from rq_ext.schedule import schedule_at
from wrappers import http

log = logging.getLogger(__name__)


def backoff(retry_count: int, retry_after: float | None = None) -> float:
    """Seconds before local retry number ``retry_count``: exponential, jittered, capped."""
    settings = get_settings()
    delay = min(settings.RETRY_BACKOFF_MAX, settings.RETRY_BACKOFF_BASE * 2 ** max(0, retry_count - 1))
    delay *= random.uniform(0.5, 1.5)
    return max(delay, retry_after or 0.0)


def post_to_server(args: Any) -> bool:
    """POST the job's args list as JSON to ``FUSION_SERVER/retryTask/``; True on a 2xx."""
    settings = get_settings()
    if not settings.FUSION_SERVER:
        return False
    url = settings.FUSION_SERVER.rstrip("/") + "/retryTask/"
    try:
        body = json.dumps(list(args), default=str)
        response = http.session().post(
            url,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=settings.RETRY_TASK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("retryTask POST failed (%s); scheduling the retry locally", type(exc).__name__)
        return False
    if 200 <= response.status_code < 300:
        return True
    log.warning("retryTask answered HTTP %s; scheduling the retry locally", response.status_code)
    return False


def hand_over(connection: Redis, job_id: str, args: Any, retry_count: int, failure: Failure) -> str:
    """Give the retry to the server or the local schedule; returns ``"server"`` or ``"local"``.

    The job is in ``fusion:awaiting_retry`` before the POST (the caller put it there), so a
    server that re-enqueues at once can't race the bookkeeping.
    """
    if post_to_server(args):
        return "server"
    connection.zrem(contract.AWAITING_RETRY, job_id)
    schedule_at(connection, job_id, time.time() + backoff(retry_count, failure.retry_after))
    return "local"
