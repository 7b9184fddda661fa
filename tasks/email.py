"""EMAIL channel, code 2: ``tasks.email.send_email(task)`` through AWS SES v2.

Without attachments the message goes as SES *Simple* content; with attachments (base64, S3 or
URL, see :mod:`tasks.mail.attachments`) as a raw MIME message (:mod:`tasks.mail.mime`).
The success callback gets SES's ``message_id``. Sending is a plan (:mod:`rq_ext.sansio`,
:func:`plan_email`): the attachments' fetch and the SES call are blocking effects, the ledger
record an effect, the rest pure. Throttling and 5xx are retryable;
``MessageRejected``, an unverified sender or a bad address fail permanently with SES's message.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import get_current_job

from config import get_settings
from rq_ext import sansio
from rq_ext.ledger import Ledger
from rq_ext.sansio import Call, Plan, Record
from tasks.mail.attachments import Attachment, load_attachments
from tasks.mail.message import Email, domains, parse_email
from tasks.mail.mime import build_raw
from tasks.mail.ses import send
from tasks.payload import EMAIL, payload_of

log = logging.getLogger(__name__)


def summary(email: Email) -> str:
    """What is sent, without addresses' local parts, subject, bodies or file names."""
    kinds = [next((k for k in ("content_base64", "s3_key", "url") if spec.get(k)), "?") for spec in email.attachments]
    text = f"from {domains([email.sender])} to {len(email.recipients)} recipient(s) ({domains(email.recipients)})"
    if kinds:
        text += f", {len(kinds)} attachment(s) ({', '.join(kinds)})"
    return f"{text}, region {email.config.region}"


def result(email: Email, message_id: str) -> dict[str, Any]:
    return {
        "channel": "email",
        "message_id": message_id,
        "recipients": len(email.recipients),
        "attachments": len(email.attachments),
    }


def plan_send(email: Email) -> Plan[str]:
    """The attachments fetched, the MIME message built (up to tens of MB: never on an event
    loop's thread) and SES's ``SendEmail``, as :class:`~rq_ext.sansio.Call` effects (boto3 has
    no sans-I/O form: an event loop runs them on its bounded thread pool); SES's message id."""
    raw = None
    if email.attachments:
        loaded: list[Attachment] = yield Call(load_attachments, (email.attachments, email.config))
        raw = yield Call(build_raw, (email, loaded))
    message_id: str = yield Call(send, (email, raw))
    return message_id


def plan_email(task: Any, job: Any) -> Plan[dict[str, Any]]:
    """The sans-I/O form of :func:`send_email` (:mod:`rq_ext.sansio`): every check first, then the
    send unless the job's delivery ledger says SES already accepted it, then its record."""
    email = parse_email(payload_of(task, EMAIL))
    if get_settings().DRY_RUN:
        log.info("DRY_RUN email: would send %s", summary(email))
        return {"dry_run": "true", "channel": "email"}
    ledger = Ledger("email", job=job)
    message_id = yield from sansio.reading(ledger, ledger.accepted, "message")
    if message_id:  # SES accepted it before a crash or a lost answer: never send it twice
        log.warning("email already accepted by SES for this job (message %s); not sent again", message_id)
        return result(email, message_id)
    message_id = yield from plan_send(email)
    yield Record(ledger, "message", message_id)
    log.info("email sent: SES message %s, %s", message_id, summary(email))
    return result(email, message_id)


@sansio.plan(plan_email)
def send_email(task: Any) -> dict[str, Any]:
    """Send one e-mail; return ``{"channel", "message_id", "recipients", "attachments"}``."""
    return sansio.run(plan_email(task, get_current_job()))
