"""AWS SNS through boto3 (SigV4 signing is why this gateway is code, not data)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config import get_settings
from errors import (
    InvalidRecipient,
)
from tasks.gateways.spec import E164, Gateway, Outbound
from wrappers import aws
from wrappers.ssrf import check_url


def client(config: dict[str, Any]) -> Any:
    """The SNS client for these credentials (the one boto3 client cache, :mod:`wrappers.aws`)."""
    region = config.get("region") or get_settings().AWS_REGION
    endpoint = config.get("base_url") or config.get("endpoint_url") or None
    return aws.client("sns", region, config, endpoint_url=endpoint, timeout=get_settings().PROVIDER_TIMEOUT)


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
    """A classified error for a boto3 failure (:func:`wrappers.aws.boto_error`), with SNS's own
    word for an invalid number."""
    error = aws.boto_error(exc, "aws_sns")
    details = exc.response.get("Error", {}) if isinstance(exc, ClientError) else {}
    if details.get("Code") == "InvalidParameter" and "phone" in str(details.get("Message", "")).lower():
        return InvalidRecipient(str(error))
    return error


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
