"""PUSH channel, code 3: ``tasks.push_notification.send_push(task)``.

``ios`` goes to APNs when the config has an ``apns`` section, otherwise through FCM like
``android`` and ``web``. APNs tokens are sent concurrently (one HTTP/2 connection), FCM tokens
one request after another; the success callback carries per-token
``results``, the ``invalid_tokens`` to prune and counts (see :mod:`tasks.push.outcome`). Sending
is a plan (:mod:`rq_ext.sansio`, :func:`plan_push`): FCM's requests go through the transports
(aiohttp on the event loop), APNs's HTTP/2 batch is a blocking call (:mod:`tasks.push.apns`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from rq import get_current_job

from config import Settings, get_settings
from rq_ext import contract, sansio
from rq_ext.ledger import Ledger
from rq_ext.sansio import Plan, Record
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


def accepted_of(ledger: Ledger, tokens: list[str]) -> dict[str, str | None]:
    """The tokens already accepted for this job, with the provider's ids (Redis reads)."""
    pending = set(ledger.pending(tokens))
    return {token: ledger.accepted(token) for token in tokens if token not in pending}


def plan_pending(push: Push, provider: str, ledger: Ledger, settings: Settings) -> Plan[list[TokenResult]]:
    """Send to the tokens not yet accepted for this job (a retry or a recovered job skips the
    others); record every token the provider accepts. The provider tokens (APNs JWT, FCM access
    token) are shared through the job's Redis connection."""
    accepted = yield from sansio.reading(ledger, accepted_of, ledger, push.tokens)
    done = [sent(token, accepted[token]) for token in push.tokens if token in accepted]
    pending = [token for token in push.tokens if token not in accepted]
    if not pending:
        return done
    todo = dataclasses.replace(push, tokens=pending)
    plan_send = apns.plan_send if provider == "apns" else fcm.plan_send
    results = yield from plan_send(todo, settings, ledger.connection)
    for result in results:
        if result.status == SENT:
            yield Record(ledger, result.token, result.id or "accepted")
    return done + results


def plan_push(task: Any, job: Any) -> Plan[dict[str, Any]]:
    """The sans-I/O form of :func:`send_push` (:mod:`rq_ext.sansio`): every check first, then the
    provider's sends, each accepted token a ledger record of ``job``."""
    push = parse_push(payload_of(task, PUSH))
    provider = provider_of(push)
    settings = get_settings()
    if settings.DRY_RUN:
        log.info("DRY_RUN push_notification: would send %s", summary(push))
        return {"dry_run": "true", "channel": "push"}
    results = yield from plan_pending(push, provider, Ledger("push", job=job), settings)
    fields = outcome(provider, push.platform, results)
    log.info("push sent: %s; %s accepted, %s invalid", summary(push), fields["sent"], fields["invalid"])
    return fields


@sansio.plan(plan_push)
def send_push(task: Any) -> dict[str, Any]:
    """Send one push to every token; return the per-token results for the success callback."""
    return sansio.run(plan_push(task, get_current_job()))
