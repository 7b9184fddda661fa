"""Sending through the SES v2 ``SendEmail`` operation: Simple content, or Raw with attachments."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasks.mail.message import Email
from wrappers import aws

CHARSET = "UTF-8"


def destination(email: Email) -> dict[str, list[str]]:
    fields = {"ToAddresses": email.to, "CcAddresses": email.cc, "BccAddresses": email.bcc}
    return {name: values for name, values in fields.items() if values}


def simple_content(email: Email) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if email.text is not None:
        body["Text"] = {"Data": email.text, "Charset": CHARSET}
    if email.html is not None:
        body["Html"] = {"Data": email.html, "Charset": CHARSET}
    return {"Simple": {"Subject": {"Data": email.subject, "Charset": CHARSET}, "Body": body}}


def request(email: Email, raw: bytes | None) -> dict[str, Any]:
    """The ``SendEmail`` arguments: Raw content when ``raw`` is given, Simple otherwise."""
    kwargs: dict[str, Any] = {"FromEmailAddress": email.sender, "Destination": destination(email)}
    kwargs["Content"] = {"Raw": {"Data": raw}} if raw is not None else simple_content(email)
    if email.reply_to and raw is None:
        kwargs["ReplyToAddresses"] = email.reply_to
    if email.config.configuration_set:
        kwargs["ConfigurationSetName"] = email.config.configuration_set
    return kwargs


def send(email: Email, raw: bytes | None = None) -> str:
    """Send the message; return SES's message id. Errors are classified (see :mod:`.aws`)."""
    client = aws.client("sesv2", email.config.region, email.config.account)
    try:
        response = client.send_email(**request(email, raw))
    except (ClientError, BotoCoreError) as exc:
        raise aws.boto_error(exc, "SES") from exc
    return str(response["MessageId"])
