"""EMAIL channel, code 2: ``tasks.email.send_email(task)`` through AWS SES v2.

Without attachments the message goes as SES *Simple* content; with attachments (base64, S3 or
URL, see :mod:`tasks.mail.attachments`) as a raw MIME message (:mod:`tasks.mail.mime`).
The success callback gets SES's ``message_id``. Throttling and 5xx are retryable;
``MessageRejected``, an unverified sender or a bad address fail permanently with SES's message.
"""

from __future__ import annotations

import logging
from typing import Any

from config import get_settings
from rq_ext.ledger import Ledger
from tasks.mail.attachments import load_attachments
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


def send_email(task: Any) -> dict[str, Any]:
    """Send one e-mail; return ``{"channel", "message_id", "recipients", "attachments"}``."""
    email = parse_email(payload_of(task, EMAIL))
    if get_settings().DRY_RUN:
        log.info("DRY_RUN email: would send %s", summary(email))
        return {"dry_run": "true", "channel": "email"}
    ledger = Ledger("email")
    message_id = ledger.accepted("message")
    if message_id:  # SES accepted it before a crash or a lost answer: never send it twice
        log.warning("email already accepted by SES for this job (message %s); not sent again", message_id)
    else:
        raw = build_raw(email, load_attachments(email.attachments, email.config)) if email.attachments else None
        message_id = send(email, raw)
        ledger.record("message", message_id)
        log.info("email sent: SES message %s, %s", message_id, summary(email))
    return {
        "channel": "email",
        "message_id": message_id,
        "recipients": len(email.recipients),
        "attachments": len(email.attachments),
    }
