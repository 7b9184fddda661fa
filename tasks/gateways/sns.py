"""AWS SNS through boto3 (SigV4 signing is why this gateway is code, not data)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config import get_settings
from errors import (
    DeliveryTimeout,
    InvalidRecipient,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from tasks.gateways.spec import E164, Gateway, Outbound
from wrappers.masking import mask_text
from wrappers.ssrf import check_url

_clients: dict[tuple[Any, ...], Any] = {}
_THROTTLED = ("Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException")


def client(config: dict[str, Any]) -> Any:
    """A cached SNS client for this process and these credentials."""
    region = config.get("region") or get_settings().AWS_REGION
    endpoint = config.get("base_url") or config.get("endpoint_url") or None
    key = (os.getpid(), region, endpoint, config["aws_access_key_id"], config["aws_secret_access_key"])
    if key not in _clients:
        timeout = get_settings().PROVIDER_TIMEOUT
        options = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
        _clients[key] = boto3.client(
            "sns",
            region_name=region,
            endpoint_url=endpoint,
            config=options,
            aws_access_key_id=config["aws_access_key_id"],
            aws_secret_access_key=config["aws_secret_access_key"],
        )
    return _clients[key]


def attributes(out: Outbound) -> dict[str, Any]:
    """SMS message attributes: type, sender id and India DLT ids."""
    values = {"AWS.SNS.SMS.SMSType": out.config.get("sms_type", "Transactional")}
    if out.sender:
        values["AWS.SNS.SMS.SenderID"] = out.sender
    if out.config.get("dlt_entity_id"):
        values["AWS.MM.SMS.EntityId"] = out.config["dlt_entity_id"]
    if out.template_id:
        values["AWS.MM.SMS.TemplateId"] = out.template_id
    return {name: {"DataType": "String", "StringValue": str(value)} for name, value in values.items()}


def classify(exc: Exception) -> Exception:
    """A classified error for a boto3 failure."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), mask_text(error.get("Message", ""))[:300]
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
        reason = f"aws_sns: {code}: {message}"
        if code in _THROTTLED or status == 429:
            return RateLimited(reason)
        if status >= 500 or code in ("InternalError", "InternalFailure", "ServiceUnavailable"):
            return ProviderUnavailable(reason)
        if code == "InvalidParameter" and "phone" in message.lower():
            return InvalidRecipient(reason)
        return ProviderRejected(reason)
    if "Timeout" in type(exc).__name__:
        return DeliveryTimeout(f"aws_sns: timed out ({type(exc).__name__})")
    return ProviderUnavailable(f"aws_sns: {type(exc).__name__}")


def check_endpoint(out: Outbound) -> None:
    """A payload's own endpoint passes the SSRF guard (boto3 resolves it again: not pinned)."""
    endpoint = out.config.get("base_url") or out.config.get("endpoint_url")
    if endpoint and out.guard_url:
        check_url(str(endpoint))


def publish(gateway: Gateway, out: Outbound) -> str:
    """Publish one SMS to one number; the SNS MessageId."""
    check_endpoint(out)
    try:
        answer = client(dict(out.config)).publish(
            PhoneNumber=out.numbers[0], Message=out.text, MessageAttributes=attributes(out)
        )
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc) from None
    return str(answer["MessageId"])


GATEWAY = Gateway(
    name="aws_sns",
    title="AWS SNS (boto3)",
    region="global",
    url="https://sns.{region}.amazonaws.com",
    required=("aws_access_key_id", "aws_secret_access_key"),
    sender="AWS.SNS.SMS.SenderID",
    to="PhoneNumber",
    message="Message",
    number_format=E164,
    joiner=None,
    dlt_entity="AWS.MM.SMS.EntityId",
    dlt_template="AWS.MM.SMS.TemplateId",
    transport=publish,
    confidence="H (Publish) / L (India DLT attributes)",
    source="apprise sns.py; novu sns.provider.ts",
)
