"""AWS SNS through boto3: against moto's server, and against a plain HTTP server for the exact
request and the classification of AWS error answers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from moto.server import ThreadedMotoServer
from moto.sns.models import sns_backends

import errors
from tasks.sms import send_sms
from tests.sms.harness import NUMBER, TEXT, blackhole, respond

CONFIG = {"aws_access_key_id": "AKIAFAKEFAKE", "aws_secret_access_key": "fake-secret", "region": "us-east-1"}
PUBLISHED = (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>sns-id-1'
    "</MessageId></PublishResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></PublishResponse>"
)


def aws_error(code: str, message: str) -> str:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>r2</RequestId></ErrorResponse>"
    )


def task(base_url: str, **payload: object) -> dict:
    config = {**CONFIG, "base_url": base_url, "sender": "LABXYZ", "dlt_entity_id": "1201159100000000001"}
    return {"payload": {"task": 1, "gateway": "aws_sns", "config": config, "to": NUMBER, "message": TEXT, **payload}}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_publish_through_moto(moto_url, settings) -> None:
    result = send_sms(task(moto_url))
    messages = sns_backends["123456789012"]["us-east-1"].sms_messages
    assert messages[result["provider_message_id"]] == (NUMBER, TEXT)
    assert result["gateway"] == "aws_sns"


def test_exact_publish_request(httpserver, settings) -> None:
    respond(httpserver, PUBLISHED)
    result = send_sms(task(httpserver.url_for("/").rstrip("/"), template_id="1207161234567890123"))
    ((request, _),) = httpserver.log
    assert request.method == "POST" and request.path == "/"
    assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKE/")
    form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
    assert (form["Action"], form["PhoneNumber"], form["Message"]) == ("Publish", NUMBER, TEXT)
    names = {k: v for k, v in form.items() if k.endswith(".Name")}
    attributes = {form[k]: form[k.replace(".Name", ".Value.StringValue")] for k in names}
    assert attributes == {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.SNS.SMS.SenderID": "LABXYZ",
        "AWS.MM.SMS.EntityId": "1201159100000000001",
        "AWS.MM.SMS.TemplateId": "1207161234567890123",
    }
    assert result["provider_message_id"] == "sns-id-1"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, aws_error("Throttling", "Rate exceeded"), errors.RateLimited),
        (403, aws_error("AuthorizationError", "not authorized to perform SNS:Publish"), errors.ProviderRejected),
        (400, aws_error("InvalidParameter", "Invalid parameter: PhoneNumber"), errors.InvalidRecipient),
        (503, aws_error("ServiceUnavailable", "Service is unavailable"), errors.ProviderUnavailable),
        (500, aws_error("InternalError", "internal"), errors.ProviderUnavailable),
    ],
)
def test_aws_errors_are_classified(httpserver, settings, status, body, error) -> None:
    respond(httpserver, body, status)
    with pytest.raises(error):
        send_sms(task(httpserver.url_for("/").rstrip("/")))


def test_timeout_is_retryable(settings_factory) -> None:
    settings_factory(PROVIDER_TIMEOUT=0.2)
    with blackhole() as url, pytest.raises(errors.DeliveryTimeout):
        send_sms(task(url))


def test_missing_credentials_fail_before_any_request(settings) -> None:
    bad = task("http://127.0.0.1:9")
    del bad["payload"]["config"]["aws_secret_access_key"]
    with pytest.raises(errors.ConfigurationError, match="aws_secret_access_key"):
        send_sms(bad)
