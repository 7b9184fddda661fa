"""WhatsApp channel, code 5: ``tasks.whatsapp.send_whatsapp(task)``.

Payload (see docs/sms.md, "WhatsApp")::

    {"task": 5, "gateway": "meta", "config": {...} | "account": "<name>", "to": "+91..." | [...],
     "template": {"name", "language", "params": [...], "header_document": {"url", "filename"}}
       | "text": "..." | "document": {"url", "filename", "caption"},
     "fallback": [{"gateway": ..., "config": {...}}, ...]}

One request per number; a retryable failure moves on to the next provider of ``fallback``; numbers
already accepted for the job are never sent again. The provider's message id goes into the
success callback.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import get_current_job

from config import get_settings
from errors import FusionError
from rq_ext import sansio
from rq_ext.sansio import Call, Plan
from tasks.gateways import numbers, ratelimit
from tasks.gateways.accounts import Account, resolve_all
from tasks.gateways.delivery import Ledger, with_fallback
from tasks.payload import WHATSAPP, payload_of, require
from tasks.whatsapp_providers import engine, registry
from tasks.whatsapp_providers.message import WhatsAppMessage, message_of
from tasks.whatsapp_providers.spec import WhatsAppOut
from wrappers.echoes import Secrets, guarding
from wrappers.masking import mask_text

log = logging.getLogger(__name__)


def recipients(payload: dict[str, Any]) -> list[str]:
    """The payload's numbers in E.164 (InvalidRecipient before any request)."""
    to = require(payload, "to", (str, list))
    region = numbers.default_region(get_settings().CRELIO_DEPLOYMENT_ZONE)
    return numbers.normalise_all([str(n) for n in to] if isinstance(to, list) else to, region)


def through(
    account: Account, message: WhatsAppMessage, to: list[str], ledger: Ledger, reference: str | None
) -> Plan[None]:
    """Send to every number not yet accepted, through one provider account (a plan)."""
    provider = registry.get(account.gateway)
    rate = ratelimit.rate_of(account.config, f"{account.gateway} account {account.label}")
    for number in (n for n in to if n not in ledger.sent):
        if rate is not None:
            label = f"{account.gateway}/{account.label}"
            yield Call(ratelimit.acquire, (ledger.conn, f"wa:{account.key}", rate, 1, label))
        sender = account.config.get("sender") or None
        written = numbers.write(number, provider.number_format)
        out = WhatsAppOut(written, message, sender, account.config, reference, guard_url=account.url_from_job)
        message_id = yield from engine.send(provider, out)
        yield from ledger.record([number], provider.name, message_id)
        log.info(
            "whatsapp %s accepted by %s for %s, id %s",
            message.kind,
            provider.name,
            mask_text(number),
            mask_text(message_id),
        )


def result(to: list[str], message: WhatsAppMessage, ledger: Ledger) -> dict[str, Any]:
    sent = [ledger.sent[n] for n in to if n in ledger.sent]
    return {
        "channel": "whatsapp",
        "gateway": ",".join(dict.fromkeys(g for g, _ in sent)),
        "provider_message_id": ",".join(dict.fromkeys(i for _, i in sent if i)),
        "message_type": message.kind,
        "recipients": len(to),
    }


def dry_run(found: list[Account], message: WhatsAppMessage, to: list[str]) -> dict[str, Any]:
    """Log a masked summary of what would be sent (missing config keys by name only)."""
    try:
        for account in found:
            engine.check(registry.get(account.gateway), account.config, message.kind)
        problem = ""
    except FusionError as exc:
        problem = f" ({exc})"
    log.info(
        "DRY_RUN whatsapp %s via %s to %s%s",
        message.kind,
        " -> ".join(a.gateway for a in found),
        ", ".join(mask_text(n) for n in to),
        problem,
    )
    return {"dry_run": "true", "channel": "whatsapp", "gateway": found[0].gateway, "recipients": len(to)}


def plan_whatsapp(task: Any, job: Any) -> Plan[dict[str, Any]]:
    """The sans-I/O form of :func:`send_whatsapp` (:mod:`rq_ext.sansio`): every check first, then
    one request per number, each accepted number a ledger record of ``job``."""
    payload = payload_of(task, WHATSAPP)
    found = resolve_all(payload, get_settings().WHATSAPP_ACCOUNTS, "WHATSAPP_ACCOUNTS")
    message = message_of(payload)
    providers = [registry.get(account.gateway) for account in found]  # an unknown provider fails first
    to = recipients(payload)
    if get_settings().DRY_RUN:
        return dry_run(found, message, to)
    for provider, account in zip(providers, found, strict=True):
        engine.check(provider, account.config, message.kind)
    ledger = yield from Ledger("whatsapp", job=job).loading(to)
    reference = task.get("reference")
    ref = None if reference is None else str(reference)
    with guarding(Secrets(values=to, texts=[message.body_text])):  # every log line of the send
        yield from with_fallback(found, lambda account: through(account, message, to, ledger, ref), "whatsapp", job)
    return result(to, message, ledger)


@sansio.plan(plan_whatsapp)
def send_whatsapp(task: Any) -> dict[str, Any]:
    """Send one WhatsApp job through its provider (and fallbacks); the delivery details."""
    return sansio.run(plan_whatsapp(task, get_current_job()))
