"""The raw MIME message sent when there are attachments.

SES v2 accepts a raw message of up to 40 MB **after** MIME encoding, attachments included
(https://docs.aws.amazon.com/ses/latest/dg/quotas.html, "Message quotas"; the v1 API allows
only 10 MB). :data:`SES_MAX_MESSAGE_BYTES` is that figure; the built message is checked before
sending. Subjects, display names and file names that are not ASCII are encoded per RFC 2047 /
RFC 2231 in UTF-8; text parts are UTF-8.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING

from errors import InvalidPayload

if TYPE_CHECKING:
    from tasks.mail.attachments import Attachment
    from tasks.mail.message import Email

#: SES v2's maximum message size: 40 MB after base64 encoding, read conservatively as 40,000,000.
SES_MAX_MESSAGE_BYTES = 40_000_000


def encoded_size(raw_bytes: int) -> int:
    """Bytes ``raw_bytes`` take once base64-encoded in 76-character lines with CRLF."""
    encoded = 4 * ((raw_bytes + 2) // 3)
    return encoded + 2 * (encoded // 76 + 1)


def headers(message: EmailMessage, email: Email) -> None:
    message["From"] = email.sender
    if email.to:
        message["To"] = ", ".join(email.to)
    if email.cc:
        message["Cc"] = ", ".join(email.cc)
    if email.reply_to:
        message["Reply-To"] = ", ".join(email.reply_to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["MIME-Version"] = "1.0"


def body(message: EmailMessage, email: Email) -> None:
    if email.text is not None:
        message.set_content(email.text, charset="utf-8")
        if email.html is not None:
            message.add_alternative(email.html, subtype="html", charset="utf-8")
    else:
        message.set_content(email.html or "", subtype="html", charset="utf-8")


def build_raw(email: Email, attachments: list[Attachment]) -> bytes:
    """The message as bytes (CRLF line ends); Bcc recipients are not in the headers."""
    message = EmailMessage(policy=policy.SMTP)
    headers(message, email)
    body(message, email)
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        message.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    raw = message.as_bytes(policy=policy.SMTP)
    if len(raw) > SES_MAX_MESSAGE_BYTES:
        raise InvalidPayload(f"the message is {len(raw)} bytes, over SES's limit of {SES_MAX_MESSAGE_BYTES}")
    return raw
