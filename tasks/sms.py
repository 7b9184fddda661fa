"""SMS channel, code 1: ``tasks.sms.send_sms(task)``.

Payload (see docs/sms.md)::

    {"task": 1, "gateway": "msg91", "config": {...} | "account": "<name>",
     "to": "+919876543210" | [...], "message": "text", "sender": "LABXYZ", "template_id": "1207...",
     "unicode": true|false, "fallback": [{"gateway": ..., "config": {...}}, ...]}

Everything is checked before any request: the gateways exist, their required config is there,
every number is valid. The success callback gets the gateway that delivered, the provider's
message id, the segment count, the encoding and one result per number; ``partial`` is true when
the provider refused some numbers for good and accepted others (docs/contract.md, section 5).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rq import get_current_job

from config import get_settings
from errors import ConfigurationError, FusionError, InvalidPayload, InvalidRecipient, ProviderRejected
from rq_ext import sansio
from rq_ext.sansio import Plan
from tasks.gateways import accounts, engine, numbers, registry
from tasks.gateways.delivery import Ledger, Sms, plan_deliver
from tasks.gateways.encoding import detect
from tasks.payload import SMS, optional, payload_of, require
from wrappers.echoes import Secrets, guarding
from wrappers.masking import mask_text

log = logging.getLogger(__name__)


def read_sms(payload: dict[str, Any]) -> Sms:
    """The message of a payload, its numbers normalised (InvalidRecipient before any request)."""
    text = require(payload, "message", str)
    to = require(payload, "to", (str, list))
    if isinstance(to, list) and not all(isinstance(n, (str, int)) for n in to):
        raise InvalidPayload("payload.to must be a number or a list of numbers")
    template = optional(payload, "template_id", (str, int))
    region = numbers.default_region(get_settings().CRELIO_DEPLOYMENT_ZONE)
    e164 = numbers.normalise_all([str(n) for n in to] if isinstance(to, list) else to, region)
    encoding = detect(text, optional(payload, "unicode", bool))
    sender = optional(payload, "sender", str)
    return Sms(tuple(e164), text, encoding, sender or None, None if template is None else str(template))


def check_accounts(found: list[accounts.Account], sender: str | None) -> None:
    """Every gateway exists and has its required config (ConfigurationError otherwise)."""
    for account in found:
        engine.check_config(registry.get(account.gateway), account.config, sender)


def results(sms: Sms, ledger: Ledger) -> list[dict[str, str]]:
    """One entry per number: masked, the gateway, and the provider's message id or its refusal."""
    entries: list[dict[str, str]] = []
    for number in sms.numbers:
        to = numbers.masked(number)
        if number in ledger.sent:
            gateway, message_id = ledger.sent[number]
            entries.append({"to": to, "gateway": gateway, "status": "accepted", "message_id": message_id})
        elif number in ledger.refused:
            gateway, refusal = ledger.refused[number]
            status = "invalid_number" if isinstance(refusal.error, InvalidRecipient) else "rejected"
            entry = {
                "to": to,
                "gateway": gateway,
                "status": status,
                "code": refusal.code,
                "reason": reason_of(refusal.error),
            }
            entries.append({k: v for k, v in entry.items() if v})
    return entries


def reason_of(error: Exception) -> str:
    return mask_text(str(error))[:300]


def result(sms: Sms, ledger: Ledger) -> dict[str, Any]:
    """The success callback's extra fields."""
    sent = [ledger.sent[n] for n in sms.numbers if n in ledger.sent]
    gateways = list(dict.fromkeys(gateway for gateway, _ in sent))
    ids = list(dict.fromkeys(message_id for _, message_id in sent if message_id))
    return {
        "channel": "sms",
        "gateway": ",".join(gateways),
        "provider_message_id": ",".join(ids),
        "segments": sms.encoding.segments,
        "encoding": sms.encoding.name,
        "recipients": len(sms.numbers),
        "partial": any(n in ledger.refused for n in sms.numbers),
        "results": results(sms, ledger),
    }


def failure(sms: Sms, ledger: Ledger) -> FusionError:
    """The job's error when the provider refused every number for good: InvalidRecipient when every
    refusal says the number is invalid, else ProviderRejected; the reason lists each masked number
    with the provider's code (and the failure callback gets the per-number results)."""
    refused = [ledger.refused[n] for n in sms.numbers if n in ledger.refused]
    groups: dict[str, list[str]] = {}
    for number in sms.numbers:
        if number in ledger.refused:
            groups.setdefault(reason_of(ledger.refused[number][1].error), []).append(numbers.masked(number))
    parts = [
        text if all(m in text for m in masked) else f"{text} (to {', '.join(masked)})"
        for text, masked in groups.items()
    ]
    invalid = all(isinstance(refusal.error, InvalidRecipient) for _, refusal in refused)
    error: FusionError = (InvalidRecipient if invalid else ProviderRejected)("; ".join(parts))
    error.details = {"results": json.dumps(results(sms, ledger))}
    return error


def outcome_of(sms: Sms, ledger: Ledger) -> dict[str, Any]:
    """The callback's fields, or the job's failure when nothing was ever accepted (this attempt or
    an earlier one) and some number was refused; accepted plus refused numbers make a partial outcome."""
    if any(n in ledger.refused for n in sms.numbers) and not any(n in ledger.sent for n in sms.numbers):
        raise failure(sms, ledger)
    if any(n in ledger.refused for n in sms.numbers):
        log.warning(
            "sms partly delivered: %s",
            "; ".join(reason_of(ledger.refused[n][1].error) for n in sms.numbers if n in ledger.refused),
        )
    return result(sms, ledger)


def dry_run(found: list[accounts.Account], sms: Sms) -> dict[str, Any]:
    """Log a masked summary of what would be sent (missing config keys by name only)."""
    try:
        check_accounts(found, sms.sender)
        missing = ""
    except ConfigurationError as exc:
        missing = f" ({exc})"
    log.info(
        "DRY_RUN sms via %s to %s: %d segment(s) %s, %d characters%s",
        " -> ".join(a.gateway for a in found),
        ", ".join(mask_text(n) for n in sms.numbers),
        sms.encoding.segments,
        sms.encoding.name,
        len(sms.text),
        missing,
    )
    return {
        "dry_run": "true",
        "channel": "sms",
        "gateway": found[0].gateway,
        "segments": sms.encoding.segments,
        "encoding": sms.encoding.name,
        "recipients": len(sms.numbers),
    }


def plan_sms(task: Any, job: Any) -> Plan[dict[str, Any]]:
    """The sans-I/O form of :func:`send_sms` (:mod:`rq_ext.sansio`): every check first, then the
    requests gateway by gateway, each accepted number a ledger record of ``job``."""
    payload = payload_of(task, SMS)
    found = accounts.resolve_all(payload, get_settings().SMS_ACCOUNTS, "SMS_ACCOUNTS")
    for account in found:
        registry.get(account.gateway)  # an unknown gateway fails first
    sms = read_sms(payload)
    if get_settings().DRY_RUN:
        return dry_run(found, sms)
    check_accounts(found, sms.sender)
    with guarding(Secrets(values=sms.numbers, texts=[sms.text])):  # every log line of the send
        ledger = yield from Ledger("sms", job=job).loading(sms.numbers)
        return outcome_of(sms, (yield from plan_deliver(found, sms, ledger, job)))


@sansio.plan(plan_sms)
def send_sms(task: Any) -> dict[str, Any]:
    """Send one SMS job through its gateway (and fallbacks); the delivery details."""
    return sansio.run(plan_sms(task, get_current_job()))
