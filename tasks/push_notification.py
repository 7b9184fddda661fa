"""PUSH channel, code 3: ``tasks.push_notification.send_push(task)``.

``ios`` goes to APNs when the config has an ``apns`` section, otherwise through FCM like
``android`` and ``web``. Tokens are sent concurrently; the success callback carries per-token
``results``, the ``invalid_tokens`` to prune and counts (see :mod:`tasks.push.outcome`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from config import Settings, get_settings
from rq_ext import contract
from rq_ext.ledger import Ledger
from tasks.payload import PUSH, payload_of
from tasks.push import apns, fcm
from tasks.push.message import Push, parse_push
from tasks.push.outcome import SENT, TokenResult, outcome, sent

contract.KNOWN_GATEWAYS.update({"fcm", "apns", "android", "ios", "web"})  # label names

log = logging.getLogger(__name__)


def provider_of(push: Push) -> str:
    return "apns" if push.platform == "ios" and isinstance(push.config.get("apns"), dict) else "fcm"


def summary(push: Push) -> str:
    """What is sent, without tokens, texts or data values."""
    parts = [f"{len(push.tokens)} {push.platform} token(s) via {provider_of(push)}"]
    parts.append("alert" if push.has_alert else "background")
    if push.data:
        parts.append(f"data keys {sorted(push.data)}")
    return ", ".join(parts)


def send_pending(push: Push, provider: str, ledger: Ledger, settings: Settings) -> list[TokenResult]:
    """Send to the tokens not yet accepted for this job (a retry or a recovered job skips the
    others); record every token the provider accepts. The provider tokens (APNs JWT, FCM access
    token) are shared through the job's Redis connection."""
    pending = ledger.pending(push.tokens)
    done = [sent(token, ledger.accepted(token)) for token in push.tokens if token not in pending]
    if not pending:
        return done
    todo = dataclasses.replace(push, tokens=pending)
    send = apns.send if provider == "apns" else fcm.send
    results = send(todo, settings, ledger.connection)
    for result in results:
        if result.status == SENT:
            ledger.record(result.token, result.id or "accepted")
    return done + results


def send_push(task: Any) -> dict[str, Any]:
    """Send one push to every token; return the per-token results for the success callback."""
    push = parse_push(payload_of(task, PUSH))
    provider = provider_of(push)
    settings = get_settings()
    if settings.DRY_RUN:
        log.info("DRY_RUN push_notification: would send %s", summary(push))
        return {"dry_run": "true", "channel": "push"}
    results = send_pending(push, provider, Ledger("push"), settings)
    fields = outcome(provider, push.platform, results)
    log.info("push sent: %s; %s accepted, %s invalid", summary(push), fields["sent"], fields["invalid"])
    return fields
