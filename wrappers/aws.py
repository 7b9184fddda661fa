"""boto3 clients (one cache: per process, service, region and account) and the one map of
botocore errors onto the error tree (:func:`boto_error`), for every AWS service the worker uses.

The endpoint is boto3's own business: ``AWS_ENDPOINT_URL`` and the service-specific
``AWS_ENDPOINT_URL_SESV2`` / ``AWS_ENDPOINT_URL_S3`` are read by botocore, never overridden
here. One exception: botocore maps ``AWS_ENDPOINT_URL_SES`` to the v1 ``ses`` client only, so
when it is set and ``AWS_ENDPOINT_URL_SESV2`` is not, it is passed to the ``sesv2`` client.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import boto3
from botocore import exceptions as boto
from botocore.config import Config

from errors import (
    ConfigurationError,
    DeliveryTimeout,
    InvalidPayload,
    InvalidRecipient,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from wrappers.masking import mask_text

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
#: Account keys passed to ``boto3.session.Session``.
CREDENTIAL_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
#: SES codes that are a refusal of this message or sender, never worth retrying.
REJECTED_CODES = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException", "SendingPausedException"}
)
THROTTLING_WORDS = ("throttl", "toomanyrequests", "limitexceeded", "slowdown", "rate exceeded")

# botocore logs request bodies (message text) and signed headers (session token) at DEBUG.
for _name in ("botocore", "boto3", "s3transfer"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def _endpoint_kwargs(service: str) -> dict[str, str]:
    """The one endpoint fallback described in the module docstring."""
    if service != "sesv2" or os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return {}
    if os.environ.get("AWS_ENDPOINT_URL_SESV2") or not os.environ.get("AWS_ENDPOINT_URL_SES"):
        return {}
    return {"endpoint_url": os.environ["AWS_ENDPOINT_URL_SES"]}


def client(
    service: str,
    region: str,
    account: dict[str, Any],
    endpoint_url: str | None = None,
    timeout: float | None = None,
) -> Any:
    """The cached boto3 client for ``service`` in ``region`` with the account's credentials (one
    cache for every AWS service the worker uses). ``endpoint_url`` and ``timeout`` (one attempt,
    connect and read) serve a gateway whose account names its own endpoint and deadline."""
    credentials = {k: str(account[k]) for k in CREDENTIAL_KEYS if account.get(k)}
    endpoint = {"endpoint_url": endpoint_url} if endpoint_url else _endpoint_kwargs(service)
    key = (os.getpid(), service, region, tuple(sorted(credentials.items())), tuple(endpoint.items()), timeout)
    with _lock:
        if key not in _clients:
            config = CLIENT_CONFIG
            if timeout is not None:
                config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
            session = boto3.session.Session(**credentials)
            _clients[key] = session.client(service, region_name=region, config=config, **endpoint)
        return _clients[key]


def reset_clients() -> None:
    """Forget every cached client (tests that change endpoints or credentials)."""
    with _lock:
        _clients.clear()


def client_error(exc: boto.ClientError, what: str) -> Exception:
    """The classified error for a botocore ClientError; the reason is AWS's own message."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    reason = f"{what}: {code}: {mask_text(str(error.get('Message', '')))}".rstrip(": ")
    if status == 429 or any(word in code.lower() for word in THROTTLING_WORDS):
        return RateLimited(reason)
    if code in RETRYABLE_AWS_CODES or status >= 500:
        return ProviderUnavailable(reason)
    if code in REJECTED_CODES:
        return ProviderRejected(reason)
    if code in ("NotFoundException", "AccessDenied", "AccessDeniedException", "InvalidClientTokenId"):
        return ConfigurationError(reason)
    if code in ("InvalidParameterValue", "BadRequestException") and "address" in reason.lower() + code.lower():
        return InvalidRecipient(reason)
    if "domain" in reason.lower() and code in ("InvalidParameterValue", "BadRequestException"):
        return InvalidRecipient(reason)
    return ProviderRejected(reason)


def is_boto_error(exc: BaseException) -> bool:
    return isinstance(exc, boto.BotoCoreError | boto.ClientError)


def boto_error(exc: Exception, what: str) -> Exception:
    """Classify any botocore exception raised while talking to AWS."""
    if isinstance(exc, boto.ClientError):
        return client_error(exc, what)
    if isinstance(exc, (boto.NoCredentialsError, boto.PartialCredentialsError, boto.NoRegionError)):
        return ConfigurationError(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, (boto.ConnectTimeoutError, boto.ReadTimeoutError)):
        return DeliveryTimeout(f"{what}: timed out ({type(exc).__name__})")
    if isinstance(exc, (boto.EndpointConnectionError, boto.ConnectionClosedError, boto.HTTPClientError)):
        return ProviderUnavailable(f"{what}: connection failed ({type(exc).__name__})")
    if isinstance(exc, boto.ParamValidationError):
        return InvalidPayload(f"{what}: {mask_text(str(exc))}")
    return ProviderUnavailable(f"{what}: {type(exc).__name__}")
