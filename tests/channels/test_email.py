"""tasks.email.send_email against moto's SES v2 and S3 server; mail read back through /moto-api."""

from __future__ import annotations

import base64
import email
from email import policy
from urllib.parse import parse_qs

import pytest

from errors import ConfigurationError, InvalidPayload, InvalidRecipient, ProviderRejected, ProviderUnavailable
from rq_ext import enqueue
from rq_ext.classify import classify
from tasks.email import send_email
from wrappers import aws as mail_aws

PDF = b"%PDF-1.4 fake report \x00\x01\x02" * 50


def task(**fields) -> dict:
    payload = {
        "task": 2,
        "from": "Lab <reports@lab.example>",
        "to": ["asha.k@patients.example"],
        "subject": "Your report",
        "text": "Dear Asha, your report is ready.",
    }
    payload.update(fields)
    return {"payload": payload}


def parse(raw_data: str) -> email.message.EmailMessage:
    return email.message_from_bytes(raw_data.encode("utf-8"), policy=policy.default)


def test_simple_message(settings, aws):
    result = send_email(
        task(
            cc=["Dr Rao <rao@clinic.example>"],
            bcc=["audit@lab.example"],
            reply_to=["help@lab.example"],
            html="<p>Dear Asha</p>",
        )
    )
    (sent,) = aws.messages()
    assert result["message_id"] == sent["id"]
    assert result["channel"] == "email" and result["recipients"] == 3
    assert sent["source"] == "Lab <reports@lab.example>"
    assert sent["destinations"] == {
        "ToAddresses": ["asha.k@patients.example"],
        "CcAddresses": ["Dr Rao <rao@clinic.example>"],
        "BccAddresses": ["audit@lab.example"],
    }
    assert sent["subject"] == "Your report"
    assert sent["body"] == "<p>Dear Asha</p>"
    assert aws.raw_messages() == []


def test_utf8_subject_in_simple_message(settings, aws):
    send_email(task(subject="Befund für Frau Müller ✓"))
    assert aws.messages()[0]["subject"] == "Befund für Frau Müller ✓"


def test_attachments_go_as_raw_mime(settings, aws, httpserver):
    aws.put_object("2026/11/cbc.pdf", PDF)
    httpserver.expect_request("/files/scan.png").respond_with_data(b"\x89PNG fake", content_type="image/png")
    attachments = [
        {"filename": "Bericht Müller.pdf", "content_base64": base64.b64encode(PDF).decode()},
        {"filename": "cbc.pdf", "s3_bucket": "lab-reports", "s3_key": "2026/11/cbc.pdf"},
        {"filename": "scan.png", "url": httpserver.url_for("/files/scan.png")},
        {"filename": "notes.csv", "content_base64": base64.b64encode(b"a,b\n1,2\n").decode()},
    ]
    result = send_email(
        task(subject="Befund ✓", html="<p>Report</p>", bcc=["audit@lab.example"], attachments=attachments)
    )
    (sent,) = aws.raw_messages()
    assert result["message_id"] == sent["id"] and result["attachments"] == 4
    assert "audit@lab.example" in sent["destinations"]
    message = parse(sent["raw_data"])
    assert message["Subject"] == "Befund ✓"
    assert "Bcc" not in message and "audit@lab.example" not in sent["raw_data"]
    assert message["To"] == "asha.k@patients.example"
    body = message.get_body(("html",))
    assert body.get_content().strip() == "<p>Report</p>"
    assert message.get_body(("plain",)).get_content().strip() == "Dear Asha, your report is ready."
    parts = {part.get_filename(): part for part in message.iter_attachments()}
    assert list(parts) == ["Bericht Müller.pdf", "cbc.pdf", "scan.png", "notes.csv"]
    assert [p.get_content_type() for p in parts.values()] == [
        "application/pdf",
        "application/pdf",
        "image/png",
        "text/csv",
    ]
    assert parts["Bericht Müller.pdf"].get_payload(decode=True) == PDF
    assert parts["cbc.pdf"].get_payload(decode=True) == PDF
    assert parts["scan.png"].get_payload(decode=True) == b"\x89PNG fake"


def test_unverified_sender_is_permanent_with_ses_message(settings, aws):
    with pytest.raises(ProviderRejected, match="MessageRejected: Email address not verified") as info:
        send_email(task(**{"from": "reports@unverified.example"}))
    assert not classify(info.value).retryable
    assert "reports@" not in str(info.value)


@pytest.mark.parametrize("bad", ["not-an-address", "asha@", "a@b@c.example", "Asha <asha>"])
def test_bad_address_is_invalid_recipient(settings, aws, bad):
    with pytest.raises(InvalidRecipient) as info:
        send_email(task(to=[bad]))
    assert not classify(info.value).retryable
    assert aws.messages() == []


def test_no_body_or_recipient_is_invalid(settings, aws):
    with pytest.raises(InvalidRecipient):
        send_email(task(to=[]))
    with pytest.raises(InvalidPayload, match="text"):
        send_email(task(text=None))


@pytest.mark.parametrize(
    "spec",
    [
        {"filename": "big.bin", "content_base64": base64.b64encode(b"x" * 500).decode()},
        {"filename": "big.pdf", "s3_bucket": "lab-reports", "s3_key": "big.pdf"},
        {"filename": "big.bin", "url": "URL"},
    ],
)
def test_attachment_over_the_cap_is_refused(settings_factory, aws, httpserver, spec):
    settings_factory(ATTACHMENT_MAX_BYTES=200)
    aws.put_object("big.pdf", b"y" * 500)
    httpserver.expect_request("/big").respond_with_data(b"z" * 500)
    spec = {k: (httpserver.url_for("/big") if v == "URL" else v) for k, v in spec.items()}
    with pytest.raises(InvalidPayload, match="ATTACHMENT_MAX_BYTES"):
        send_email(task(attachments=[spec]))
    assert aws.raw_messages() == []


def test_total_over_ses_limit_is_refused_before_sending(settings, aws, monkeypatch):
    monkeypatch.setattr("tasks.mail.attachments.SES_MAX_MESSAGE_BYTES", 1000)
    spec = {"filename": "a.bin", "content_base64": base64.b64encode(b"x" * 600).decode()}
    with pytest.raises(InvalidPayload, match="SES's message size limit"):
        send_email(task(attachments=[spec, dict(spec, filename="b.bin")]))
    assert aws.raw_messages() == []


def test_url_attachment_goes_through_the_ssrf_guard(settings_factory, aws, httpserver):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    httpserver.expect_request("/x").respond_with_data(b"secret")
    with pytest.raises(ProviderRejected, match="loopback"):
        send_email(task(attachments=[{"filename": "x.txt", "url": httpserver.url_for("/x")}]))
    with pytest.raises(ProviderRejected, match="metadata"):
        send_email(task(attachments=[{"filename": "x.txt", "url": "http://169.254.169.254/latest/"}]))
    assert httpserver.log == []


@pytest.mark.parametrize("status, retryable", [(404, False), (503, True), (302, False)])
def test_url_attachment_http_errors(settings, aws, httpserver, status, retryable):
    httpserver.expect_request("/r").respond_with_data("", status=status, headers={"Location": "http://10.0.0.1/"})
    with pytest.raises(Exception) as info:
        send_email(task(attachments=[{"filename": "r.pdf", "url": httpserver.url_for("/r")}]))
    assert classify(info.value).retryable is retryable


def test_missing_s3_object_is_permanent(settings, aws):
    aws.put_object("other.pdf", PDF)
    with pytest.raises(InvalidPayload, match="does not exist"):
        send_email(task(attachments=[{"filename": "r.pdf", "s3_bucket": "lab-reports", "s3_key": "missing.pdf"}]))


def test_account_and_region_from_settings(settings_factory, aws):
    settings_factory(
        EMAIL_ACCOUNTS={"eu": {"aws_access_key_id": "AKIAEUFAKE", "aws_secret_access_key": "s", "region": "eu-west-1"}}
    )
    aws.verify_domain(region="eu-west-1")
    send_email(task(config={"account": "eu", "configuration_set": "reports"}))
    assert len(aws.messages()) == 1
    (client,) = mail_aws._clients.values()
    assert client.meta.region_name == "eu-west-1"
    with pytest.raises(ConfigurationError, match="EMAIL_ACCOUNTS"):
        send_email(task(config={"account": "nope"}))


def test_clients_are_created_once_per_process_and_region(settings, aws):
    send_email(task())
    send_email(task())
    send_email(task(config={"region": "ap-south-1"}))
    assert len(mail_aws._clients) == 1


def test_service_specific_endpoint_variables(settings, aws, monkeypatch):
    """AWS_ENDPOINT_URL_SES (and _S3) alone reach moto; nothing overrides what boto3 reads."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SES", aws.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws.endpoint)
    aws.put_object("k.pdf", PDF)
    send_email(task(attachments=[{"filename": "k.pdf", "s3_bucket": "lab-reports", "s3_key": "k.pdf"}]))
    assert len(aws.raw_messages()) == 1


def test_unreachable_endpoint_is_retryable(settings, aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    mail_aws.reset_clients()
    with pytest.raises(ProviderUnavailable) as info:
        send_email(task())
    assert classify(info.value).retryable


def callback_fields(httpserver) -> dict[str, str]:
    (callback,) = [r for r, _ in httpserver.log if r.path == "/done"]
    return {k: v[0] for k, v in parse_qs(callback.get_data(as_text=True)).items()}


def test_success_callback_carries_the_message_id(conn, settings, aws, run_each_worker, httpserver):
    """On every worker class (the event-loop class drives the e-mail's plan, SES on its threads)."""
    httpserver.expect_request("/done").respond_with_data("ok")
    enqueue(
        "email", "tasks.email.send_email", task(), connection=conn, success_task_handler=httpserver.url_for("/done")
    )
    run_each_worker(["email"])
    fields = callback_fields(httpserver)
    assert fields["message_id"] == aws.messages()[0]["id"]
    assert fields["channel"] == "email"


def test_attachments_on_every_worker_class(conn, settings, aws, run_each_worker, httpserver):
    httpserver.expect_request("/done").respond_with_data("ok")
    spec = {"filename": "r.pdf", "content_base64": base64.b64encode(PDF).decode()}
    enqueue(
        "email",
        "tasks.email.send_email",
        task(attachments=[spec]),
        connection=conn,
        success_task_handler=httpserver.url_for("/done"),
    )
    run_each_worker(["email"])
    assert callback_fields(httpserver)["attachments"] == "1"
    (message,) = aws.raw_messages()
    assert "r.pdf" in message["raw_data"]


def test_accepted_before_is_not_sent_again_on_every_worker_class(conn, settings, aws, run_each_worker, httpserver):
    """A job whose ledger (in Redis: a run before) holds SES's id finishes without a send."""
    from rq_ext.ledger import Ledger

    httpserver.expect_request("/done").respond_with_data("ok")
    job = enqueue(
        "email", "tasks.email.send_email", task(), connection=conn, success_task_handler=httpserver.url_for("/done")
    )
    Ledger("email", job_id=job.id, connection=conn).record("message", "SES-ACCEPTED-BEFORE")
    run_each_worker(["email"])
    assert aws.messages() == [] and aws.raw_messages() == []
    assert callback_fields(httpserver)["message_id"] == "SES-ACCEPTED-BEFORE"


def test_dry_run_sends_nothing(settings_factory, aws, caplog):
    settings_factory(DRY_RUN=True)
    caplog.set_level("INFO")
    assert send_email(task(attachments=[{"filename": "x", "url": "http://10.0.0.1/x"}]))["dry_run"] == "true"
    assert aws.messages() == [] and aws.raw_messages() == []
    assert "***@patients.example" in caplog.text and "asha.k" not in caplog.text


@pytest.mark.parametrize(
    "code, status, message, error, retryable",
    [
        ("MessageRejected", 400, "Email address is not verified.", ProviderRejected, False),
        ("MailFromDomainNotVerifiedException", 400, "not verified", ProviderRejected, False),
        ("InvalidParameterValue", 400, "Missing domain", InvalidRecipient, False),
        ("BadRequestException", 400, "Illegal address", InvalidRecipient, False),
        ("NotFoundException", 404, "Configuration set <x> does not exist.", ConfigurationError, False),
        ("TooManyRequestsException", 429, "Maximum sending rate exceeded.", Exception, True),
        ("Throttling", 400, "Rate exceeded", Exception, True),
        ("InternalFailure", 500, "oops", ProviderUnavailable, True),
        ("ServiceUnavailable", 503, "down", ProviderUnavailable, True),
    ],
)
def test_ses_error_classification(code, status, message, error, retryable):
    from botocore.exceptions import ClientError

    exc = ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail"
    )
    mapped = mail_aws.boto_error(exc, "SES")
    assert isinstance(mapped, error)
    assert classify(mapped).retryable is retryable
    assert message.split()[0] in str(mapped)


def test_non_ascii_sender_name_is_encoded(settings, aws):
    send_email(task(**{"from": "Labor Müller <reports@lab.example>"}))
    send_email(
        task(
            **{"from": "Labor Müller <reports@lab.example>"},
            attachments=[{"filename": "a.txt", "content_base64": "YQ=="}],
        )
    )
    assert aws.messages()[0]["source"] == "=?utf-8?q?Labor_M=C3=BCller?= <reports@lab.example>"
    message = parse(aws.raw_messages()[0]["raw_data"])
    assert str(message["From"]) == "Labor Müller <reports@lab.example>"


def test_subject_with_line_break_is_invalid(settings, aws):
    with pytest.raises(InvalidPayload, match="one line"):
        send_email(task(subject="Report\r\nBcc: everyone@evil.example"))
