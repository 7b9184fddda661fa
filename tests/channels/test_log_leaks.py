"""A full run of every channel through the worker, logging at DEBUG: no address, token, body or
credential may appear in what the masked log handler writes."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import pytest

from rq_ext import enqueue
from tests.channels.push_fakes import ACCESS_TOKEN
from wrappers.logger import MaskingFilter

#: Loggers of the fake servers running inside the test process (not the worker's own output).
FAKE_SERVERS = ("werkzeug", "moto", "hypercorn", "pytest_httpserver")
APNS_TOKEN = "fe" * 32
FCM_TOKEN = "fcmLeakToken:APA91bLEAKLEAKLEAK"
WEBHOOK_KEY = b"leak-test-signing-key-0123456789"
SECRETS = {
    "recipient local part": "patientzeta",
    "cc local part": "drkappa",
    "bcc local part": "auditomega",
    "subject": "Subject-PRIVATE-42",
    "e-mail text": "SECRET-BODY-TEXT",
    "e-mail html": "SECRET-HTML-BODY",
    "attachment": "ATTACHMENT-CONTENT-XYZ",
    "AWS secret": "AWSSECRETKEYLEAKTEST",
    "AWS session token": "AWSSESSIONTOKENLEAKTEST",
    "simple e-mail text": "SIMPLE-MAIL-SECRET",
    "push title": "PUSH-TITLE-SECRET",
    "push body": "PUSH-BODY-SECRET",
    "push data": "PUSH-DATA-VALUE",
    "APNs token": APNS_TOKEN,
    "FCM token": FCM_TOKEN,
    "FCM access token": ACCESS_TOKEN,
    "webhook body": "WEBHOOK-BODY-SECRET",
    "webhook header": "HEADER-API-KEY-SECRET",
    "webhook secret": base64.b64encode(WEBHOOK_KEY).decode(),
}


class Collect(logging.Handler):
    """Formats records as the worker's handler does (masking filter), skipping the fake servers."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.addFilter(MaskingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(FAKE_SERVERS):
            self.stream.write(self.format(record) + "\n")


@pytest.fixture
def captured() -> logging.Handler:
    handler = Collect()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def jobs(httpserver, fcm_config: dict, apns_config: dict) -> list[tuple[str, str, dict]]:
    content = base64.b64encode(b"ATTACHMENT-CONTENT-XYZ").decode()
    email = {
        "task": 2,
        "from": "Lab <reports@lab.example>",
        "to": ["patientzeta@patients.example"],
        "cc": ["drkappa@clinic.example"],
        "bcc": ["auditomega@lab.example"],
        "subject": "Subject-PRIVATE-42",
        "text": "SECRET-BODY-TEXT",
        "html": "<p>SECRET-HTML-BODY</p>",
        "attachments": [
            {"filename": "r.txt", "content_base64": content},
            {"filename": "s.pdf", "s3_bucket": "lab-reports", "s3_key": "s.pdf"},
        ],
        "config": {"account": "leaky"},
    }
    push = {"task": 3, "title": "PUSH-TITLE-SECRET", "body": "PUSH-BODY-SECRET", "data": {"k": "PUSH-DATA-VALUE"}}
    webhook = {
        "task": 4,
        "url": httpserver.url_for("/hook"),
        "json": {"result": "WEBHOOK-BODY-SECRET"},
        "headers": {"X-Api-Key": "HEADER-API-KEY-SECRET"},
        "secret": "whsec_" + base64.b64encode(WEBHOOK_KEY).decode(),
    }
    return [
        ("email", "tasks.email.send_email", {"payload": email}),
        ("email", "tasks.email.send_email", {"payload": {**email, "attachments": [], "text": "SIMPLE-MAIL-SECRET"}}),
        (
            "pn",
            "tasks.push_notification.send_push",
            {"payload": {**push, "platform": "ios", "tokens": [APNS_TOKEN], "config": {"apns": apns_config}}},
        ),
        (
            "pn",
            "tasks.push_notification.send_push",
            {"payload": {**push, "platform": "android", "tokens": [FCM_TOKEN], "config": {"fcm": fcm_config}}},
        ),
        ("webhook", "tasks.webhooks.send_webhook", {"payload": webhook}),
        ("webhook", "tasks.webhooks.send_webhook", {"payload": {**webhook, "url": httpserver.url_for("/down")}}),
    ]


def arrange(settings_factory: Any, aws: Any, fcm: Any, apns_token: Any, httpserver: Any) -> tuple[Any, dict, dict]:
    """The leaky e-mail account, the S3 object, the webhook endpoints; returns the push fakes."""
    settings_factory(
        EMAIL_ACCOUNTS={
            "leaky": {
                "aws_access_key_id": "AKIALEAKTEST",
                "aws_secret_access_key": "AWSSECRETKEYLEAKTEST",
                "aws_session_token": "AWSSESSIONTOKENLEAKTEST",
            }
        }
    )
    aws.put_object("s.pdf", b"%PDF ATTACHMENT-CONTENT-XYZ")
    _, fcm_config = fcm
    apns_fake, apns_config, _ = apns_token
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/down").respond_with_data("echo WEBHOOK-BODY-SECRET", status=400)
    return apns_fake, apns_config, fcm_config


def test_no_secret_reaches_the_logs(
    conn, settings_factory, aws, fcm, apns_token, run_each_worker, httpserver, captured
):
    run_worker = run_each_worker  # every class: the event-loop class drives the push and e-mail plans
    apns_fake, apns_config, fcm_config = arrange(settings_factory, aws, fcm, apns_token, httpserver)
    httpserver.expect_request("/done").respond_with_data("ok")
    for queue, function, task in jobs(httpserver, fcm_config, apns_config):
        enqueue(queue, function, task, connection=conn, success_task_handler=httpserver.url_for("/done"))
    run_worker(["email", "pn", "webhook"])

    assert len([r for r, _ in httpserver.log if r.path == "/done"]) == 5, "every channel but the 400 webhook succeeded"
    jwt_sent = apns_fake.requests[0]["headers"]["authorization"].split(" ", 1)[1]
    output = captured.stream.getvalue()
    assert "email sent" in output and "push sent" in output and "webhook delivered" in output
    assert "***@patients.example" in output
    leaks = {name: value for name, value in {**SECRETS, "APNs JWT": jwt_sent}.items() if value in output}
    assert leaks == {}, f"unmasked in logs: {sorted(leaks)}"
