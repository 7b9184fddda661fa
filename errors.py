"""Classified errors raised by job functions and by the worker around them.

Every failure of a job is one of two kinds: *retryable* (the same job may succeed later) or
*permanent* (it never will; retrying would only repeat the harm or the noise)::

    FusionError
    ├── Deferred .................. not a failure: run again after `delay` s (rate limit)
    ├── RetryableError ............ retried through /retryTask/ or the local schedule
    │   ├── ProviderUnavailable ... connection refused or reset, 5xx, "queue full"
    │   ├── RateLimited ........... 429 or provider throttling; may carry retry_after
    │   ├── DeliveryTimeout ....... connect or read timeout, job timeout
    │   └── CircuitOpen ........... gateway account skipped: its circuit breaker is open
    └── PermanentError ............ failure callback, then the failed registry
        ├── InvalidJob ............ malformed job hash, undecodable data, bad args
        │   ├── InvalidPayload .... payload missing, wrong type, missing field
        │   ├── DisallowedFunction  function outside JOB_FUNCTION_ALLOWLIST
        │   └── DisallowedPickle .. pickled data names a global outside the safe list
        ├── ConfigurationError .... unknown gateway, missing credential or setting
        ├── InvalidRecipient ...... invalid phone number, address or token
        ├── ProviderRejected ...... 4xx, bad credentials, DND, template mismatch
        │   └── DestinationRefused  URL refused by the network guard (wrappers.ssrf)
        ├── NotWhitelisted ........ webhook URL not on WEBHOOK_WHITELIST
        └── ChannelNotAvailable ... the channel has no sender in this build

Third-party exceptions (requests, urllib3, botocore, redis) are mapped onto this tree in one
table, :mod:`rq_ext.classify`; the result of classifying is a :class:`Failure`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """What went wrong with a job: retry it or not, why, and how long the provider asked to wait."""

    retryable: bool
    reason: str
    retry_after: float | None = None
    #: Set for a :class:`Deferred` job: run it again after this many seconds.
    deferred: float | None = None
    #: Extra fields for the failure callback (``FusionError.details``).
    details: tuple[tuple[str, str], ...] = ()


class FusionError(Exception):
    """Root of the worker's own errors; ``str(err)`` is the readable reason.

    ``details`` (str values) go into the failure callback beside the reason, e.g. the push
    tokens the server should prune."""

    retryable = False
    details: dict[str, str] = {}


class Deferred(FusionError):
    """Not a failure: the job should run again after ``delay`` seconds (e.g. a rate limit of
    our own was reached). The worker reschedules it without counting a retry or calling back."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class RetryableError(FusionError):
    """A transient failure: the job is retried."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the provider asked us to wait, when it said so.
        self.retry_after = retry_after


class ProviderUnavailable(RetryableError):
    """The provider could not be reached or answered with a server error."""


class RateLimited(RetryableError):
    """The provider refused for now because of a rate limit."""


class DeliveryTimeout(RetryableError):
    """The provider did not answer in time."""


class CircuitOpen(RetryableError):
    """The account's circuit breaker is open: it was skipped without a request. ``retry_after``
    is the rest of its cool-down; with no fallback left the job is deferred that long."""


class PermanentError(FusionError):
    """A failure that retrying cannot fix."""


class InvalidJob(PermanentError):
    """The job itself is malformed."""


class InvalidPayload(InvalidJob):
    """The task payload is missing, of the wrong type, or lacks a field."""


class DisallowedFunction(InvalidJob):
    """The job names a function outside the allowlist."""


class DisallowedPickle(InvalidJob):
    """Pickled job data names a global (module attribute) outside the safe list."""


class ConfigurationError(PermanentError):
    """A gateway, credential or setting the job needs is missing or unknown."""


class InvalidRecipient(PermanentError):
    """A recipient (number, address, token) is invalid."""


class ProviderRejected(PermanentError):
    """The provider refused the message for good (4xx, auth, policy)."""


class DestinationRefused(ProviderRejected):
    """A URL's scheme or address is refused by the network guard (:mod:`wrappers.ssrf`)."""


class NotWhitelisted(PermanentError):
    """A webhook URL does not match WEBHOOK_WHITELIST."""


class ChannelNotAvailable(PermanentError):
    """The channel cannot send in this build (only its dry run works)."""
