"""Attachments from base64 content, from S3 (boto3) or from a URL (through the SSRF guard).

Each attachment is capped at ``ATTACHMENT_MAX_BYTES``; the running total is checked against
SES's message limit (:data:`tasks.mail.mime.SES_MAX_MESSAGE_BYTES`, with base64's 4/3 growth)
before the next one is fetched. Oversized or unreachable attachments fail the job permanently;
throttling, 5xx and transport errors are retryable.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config import get_settings
from errors import InvalidPayload
from tasks.mail.message import MailConfig
from tasks.mail.mime import SES_MAX_MESSAGE_BYTES, encoded_size
from wrappers import aws, http, pinned

DEFAULT_TYPE = "application/octet-stream"
URL_TIMEOUT = 30.0


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def safe_filename(raw: Any, index: int) -> str:
    """The file name without directories or control characters (UTF-8 kept)."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPayload(f"payload.attachments[{index}].filename is missing")
    name = re.sub(r"[\x00-\x1f\x7f]", "", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name or name in (".", ".."):
        raise InvalidPayload(f"payload.attachments[{index}].filename is not a file name")
    return name


def content_type(spec: dict[str, Any], filename: str, reported: str | None = None) -> str:
    """Explicit ``content_type``, else the source's type, else guessed from the name."""
    explicit = spec.get("content_type")
    if isinstance(explicit, str) and re.fullmatch(r"[\w.+-]+/[\w.+-]+", explicit):
        return explicit.lower()
    if reported and reported.split(";")[0].strip().lower() not in ("", DEFAULT_TYPE, "binary/octet-stream"):
        return reported.split(";")[0].strip().lower()
    return mimetypes.guess_type(filename)[0] or DEFAULT_TYPE


def limit() -> int:
    return get_settings().ATTACHMENT_MAX_BYTES


def check_size(size: int, where: str) -> None:
    if size > limit():
        raise InvalidPayload(f"attachment {where} is over ATTACHMENT_MAX_BYTES ({limit()} bytes)")


def from_base64(spec: dict[str, Any], where: str) -> tuple[bytes, str | None]:
    encoded = re.sub(r"\s+", "", str(spec["content_base64"]))
    check_size(len(encoded) * 3 // 4 - 2, where)
    try:
        return base64.b64decode(encoded, validate=True), None
    except (binascii.Error, ValueError):
        raise InvalidPayload(f"attachment {where}: content_base64 is not valid base64") from None


def from_s3(spec: dict[str, Any], where: str, config: MailConfig) -> tuple[bytes, str | None]:
    bucket, key = spec.get("s3_bucket"), spec.get("s3_key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
        raise InvalidPayload(f"attachment {where}: s3_bucket and s3_key must be strings")
    region = str(spec.get("s3_region") or config.region)
    try:
        obj = aws.client("s3", region, config.account).get_object(Bucket=bucket, Key=key)
        try:
            check_size(int(obj.get("ContentLength") or 0), where)
            data = obj["Body"].read(limit() + 1)
        finally:
            obj["Body"].close()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
            raise InvalidPayload(f"attachment {where}: s3://{bucket}/{key} does not exist") from exc
        raise aws.boto_error(exc, f"attachment {where} (S3)") from exc
    except BotoCoreError as exc:
        raise aws.boto_error(exc, f"attachment {where} (S3)") from exc
    check_size(len(data), where)
    return data, obj.get("ContentType")


def from_url(spec: dict[str, Any], where: str) -> tuple[bytes, str | None]:
    url = spec["url"]
    if not isinstance(url, str):
        raise InvalidPayload(f"attachment {where}: url must be a string")
    response = pinned.request("GET", url, what=f"attachment {where}", timeout=URL_TIMEOUT)
    announced = response.headers.get("Content-Length") or "0"
    if not 200 <= response.status_code < 300:
        response.close()
        http.raise_for_outcome(response, f"attachment {where}")
    if announced.isdigit() and int(announced) > limit():
        response.close()
        check_size(int(announced), where)
    data, truncated = pinned.read_capped(response, limit(), f"attachment {where}")
    if truncated:
        check_size(len(data) + 1, where)
    return data, response.headers.get("Content-Type")


def load_one(spec: dict[str, Any], index: int, config: MailConfig) -> Attachment:
    filename = safe_filename(spec.get("filename"), index)
    where = f"#{index + 1}"
    if spec.get("content_base64"):
        data, reported = from_base64(spec, where)
    elif spec.get("s3_bucket") or spec.get("s3_key"):
        data, reported = from_s3(spec, where, config)
    elif spec.get("url"):
        data, reported = from_url(spec, where)
    else:
        raise InvalidPayload(f"attachment {where} needs content_base64, s3_bucket/s3_key or url")
    return Attachment(filename, content_type(spec, filename, reported), data)


def load_attachments(specs: list[dict[str, Any]], config: MailConfig) -> list[Attachment]:
    """Fetch every attachment in order, stopping as soon as the total cannot fit in SES's limit."""
    loaded: list[Attachment] = []
    total = 0
    for index, spec in enumerate(specs):
        attachment = load_one(spec, index, config)
        total += encoded_size(len(attachment.data))
        if total > SES_MAX_MESSAGE_BYTES:
            raise InvalidPayload(f"attachments exceed SES's message size limit ({SES_MAX_MESSAGE_BYTES} bytes)")
        loaded.append(attachment)
    return loaded
