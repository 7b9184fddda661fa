"""Standard Webhooks signing: webhook-id (the job id), webhook-timestamp, webhook-signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from errors import InvalidPayload
from rq_ext import enqueue
from tasks.webhooks import send_webhook, signature_headers

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def expected_signature(msg_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(KEY, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_standard_webhooks_test_vector():
    """The example of the Standard Webhooks specification."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    headers = signature_headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signed_delivery_carries_the_job_id(conn, settings, run_worker, httpserver):
    httpserver.expect_request("/signed", method="POST").respond_with_data("ok")
    task = {"payload": {"task": 4, "url": httpserver.url_for("/signed"), "json": {"report": "ready"}, "secret": SECRET}}
    enqueue("webhook", "tasks.webhooks.send_webhook", task, connection=conn, job_id="job-signed")
    before = int(time.time())
    run_worker(["webhook"])
    (request,) = [r for r, _ in httpserver.log]
    headers = request.headers
    assert headers["webhook-id"] == "job-signed"
    assert before - 1 <= int(headers["webhook-timestamp"]) <= time.time() + 1
    body = request.get_data()
    assert headers["webhook-signature"] == expected_signature("job-signed", headers["webhook-timestamp"], body)
    assert request.json == {"report": "ready"}


def test_unsigned_without_secret(settings, httpserver):
    httpserver.expect_request("/plain").respond_with_data("ok")
    send_webhook({"payload": {"task": 4, "url": httpserver.url_for("/plain"), "body": "hi"}})
    assert "webhook-signature" not in httpserver.log[0][0].headers


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_not base64!"])
def test_bad_secret_is_invalid_payload(settings, httpserver, secret):
    with pytest.raises(InvalidPayload, match="secret"):
        send_webhook({"payload": {"task": 4, "url": httpserver.url_for("/x"), "body": "hi", "secret": secret}})
    assert httpserver.log == []
