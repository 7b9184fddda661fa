"""Per-token results, sent concurrently, and the job's outcome from them.

The job succeeds if any token was accepted. When none was: retryable if any token failed for a
retryable reason, permanent otherwise. The invalid tokens (to prune) are in the success fields
and on the permanent error's ``details``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from errors import FusionError, InvalidRecipient, ProviderRejected, ProviderUnavailable, RateLimited

SENT, INVALID, FAILED = "sent", "invalid", "failed"
T = TypeVar("T")
MAX_THREADS = 16


@dataclass(frozen=True)
class TokenResult:
    token: str
    status: str
    id: str | None = None
    reason: str | None = None
    retryable: bool = False
    retry_after: float | None = None


def sent(token: str, message_id: str | None) -> TokenResult:
    return TokenResult(token, SENT, id=message_id)


def invalid(token: str, reason: str) -> TokenResult:
    return TokenResult(token, INVALID, reason=reason)


def failed(token: str, reason: str, retryable: bool, retry_after: float | None = None) -> TokenResult:
    return TokenResult(token, FAILED, reason=reason, retryable=retryable, retry_after=retry_after)


def from_error(token: str, error: FusionError) -> TokenResult:
    """A failed result carrying a classified error's reason and retry hint."""
    return failed(token, str(error), error.retryable, getattr(error, "retry_after", None))


def send_all(tokens: list[str], send_one: Callable[[str], T]) -> list[T]:
    """Call ``send_one`` for every token from a thread pool; results in token order."""
    if len(tokens) == 1:
        return [send_one(tokens[0])]
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(tokens)), thread_name_prefix="push") as pool:
        return list(pool.map(send_one, tokens))


def fields(provider: str, platform: str, results: list[TokenResult]) -> dict[str, Any]:
    """The success-callback fields: counts plus JSON-encoded results and invalid tokens."""
    invalid_tokens = [r.token for r in results if r.status == INVALID]
    rows = [{k: v for k, v in asdict(r).items() if v not in (None, False)} for r in results]
    return {
        "channel": "push",
        "provider": provider,
        "platform": platform,
        "sent": sum(r.status == SENT for r in results),
        "failed": sum(r.status != SENT for r in results),
        "invalid": len(invalid_tokens),
        "results": json.dumps(rows),
        "invalid_tokens": json.dumps(invalid_tokens),
    }


def outcome(provider: str, platform: str, results: list[TokenResult]) -> dict[str, Any]:
    """The callback fields if any token was accepted; otherwise raise the classified error."""
    summary = fields(provider, platform, results)
    if summary["sent"]:
        return summary
    retryable = [r for r in results if r.retryable]
    reason = f"{provider}: none of {len(results)} token(s) accepted; first reason: {results[0].reason}"
    if retryable:
        waits = [r.retry_after for r in retryable if r.retry_after]
        error_class = RateLimited if waits else ProviderUnavailable
        raise error_class(reason, retry_after=max(waits) if waits else None)
    error: FusionError = InvalidRecipient(reason) if summary["invalid"] == len(results) else ProviderRejected(reason)
    error.details = {k: summary[k] for k in ("results", "invalid_tokens", "invalid")}
    raise error
