"""The one table that maps an exception onto the error tree of :mod:`errors`: retry it or not,
and the readable reason.

- the worker's own errors (:class:`errors.FusionError`) say it themselves;
- ``requests`` timeouts and connection errors, a job timeout, a dead work horse: retryable;
- botocore: throttling, 5xx and transport errors retryable, other client errors permanent;
- a Redis error escaping the job (Redis unreachable mid-job): never the job's failure — the job
  is deferred a few seconds and runs again (its delivery ledger skips what was accepted);
- anything else: permanent, with its type and message.
"""

from __future__ import annotations

import redis
import requests
import urllib3
from rq.exceptions import DeserializationError
from rq.timeouts import JobTimeoutException

from errors import Deferred, Failure, FusionError
from wrappers import aws

#: The reason the parent worker gives when the work horse died under a job.
HORSE_DIED = "Work-horse terminated unexpectedly"


#: Transport errors of the HTTP clients: the request may succeed later.
TRANSPORT_ERRORS = (
    requests.ConnectTimeout,
    requests.ReadTimeout,
    requests.ConnectionError,
    requests.Timeout,
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.MaxRetryError,
)
#: Seconds before a job interrupted by a Redis outage runs again.
REDIS_RETRY_DELAY = 5.0


def classify(exc: BaseException) -> Failure:
    """Classify an exception raised by a job."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, Deferred):
        return Failure(False, str(exc), deferred=max(0.0, exc.delay))
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return Failure(False, f"Redis unreachable during the job ({type(exc).__name__})", deferred=REDIS_RETRY_DELAY)
    if isinstance(exc, FusionError):
        details = tuple((str(k), str(v)) for k, v in (exc.details or {}).items())
        return Failure(exc.retryable, str(exc), getattr(exc, "retry_after", None), details=details)
    if isinstance(exc, TRANSPORT_ERRORS):
        return Failure(True, reason)
    if isinstance(exc, JobTimeoutException):
        return Failure(True, f"job timed out: {exc}")
    if isinstance(exc, DeserializationError):
        return Failure(False, "job data could not be decoded (DeserializationError)")
    if isinstance(exc, Exception) and aws.is_boto_error(exc):
        return classify(aws.boto_error(exc, "AWS"))
    return Failure(False, reason)


def classify_exc_string(exc_string: str) -> Failure:
    """Classify a failure known only by its text (the parent worker's view of a dead horse)."""
    if exc_string.startswith(HORSE_DIED):
        return Failure(True, exc_string.strip())
    return Failure(False, exc_string.strip() or "job failed")
