"""Which exceptions are worth retrying, and the readable reason of a failure."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from rq.exceptions import DeserializationError
from rq.timeouts import JobTimeoutException

from errors import Deferred, FusionError

#: botocore error codes that mean "try again later".
RETRYABLE_AWS_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "LimitExceededException",
    }
)
_BOTO_TRANSIENT = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError")
#: The reason the parent worker gives when the work horse died under a job.
HORSE_DIED = "Work-horse terminated unexpectedly"


@dataclass(frozen=True)
class Failure:
    """What went wrong with a job: retry it or not, why, and how long the provider asked to wait."""

    retryable: bool
    reason: str
    retry_after: float | None = None
    #: Set for a :class:`~errors.Deferred` job: run it again after this many seconds.
    deferred: float | None = None
    #: Extra fields for the failure callback (``FusionError.details``).
    details: tuple[tuple[str, str], ...] = ()


def _aws_retryable(exc: BaseException) -> bool | None:
    """True/False for botocore errors, None for anything else."""
    if type(exc).__name__ in _BOTO_TRANSIENT:
        return True
    response = getattr(exc, "response", None)
    if type(exc).__name__ != "ClientError" or not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code", "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
    return code in RETRYABLE_AWS_CODES or status >= 500 or status == 429


def classify(exc: BaseException) -> Failure:
    """Classify an exception raised by a job."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, Deferred):
        return Failure(False, str(exc), deferred=max(0.0, exc.delay))
    if isinstance(exc, FusionError):
        details = tuple((str(k), str(v)) for k, v in (exc.details or {}).items())
        return Failure(exc.retryable, str(exc), getattr(exc, "retry_after", None), details=details)
    if isinstance(exc, (requests.ConnectTimeout, requests.ReadTimeout, requests.ConnectionError, requests.Timeout)):
        return Failure(True, reason)
    if isinstance(exc, JobTimeoutException):
        return Failure(True, f"job timed out: {exc}")
    if isinstance(exc, DeserializationError):
        return Failure(False, "job data could not be decoded (DeserializationError)")
    aws = _aws_retryable(exc)
    if aws is not None:
        return Failure(aws, reason)
    return Failure(False, reason)


def classify_exc_string(exc_string: str) -> Failure:
    """Classify a failure known only by its text (the parent worker's view of a dead horse)."""
    if exc_string.startswith(HORSE_DIED):
        return Failure(True, exc_string.strip())
    return Failure(False, exc_string.strip() or "job failed")
