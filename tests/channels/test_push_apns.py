"""APNs over HTTP/2 against a local hypercorn server with a test-generated certificate."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest

from errors import ConfigurationError, InvalidRecipient, ProviderRejected, ProviderUnavailable, RateLimited
from rq_ext import enqueue
from rq_ext.classify import classify
from tasks.push import apns_auth
from tasks.push.token_cache import TokenCache
from tasks.push_notification import send_push

GOOD = ["a1" * 32, "b2" * 32, "c3" * 32]
GONE, BAD = "dead" * 16, "beef" * 16


def task(config: dict, tokens: list[str], **fields) -> dict:
    payload = {
        "task": 3,
        "platform": "ios",
        "tokens": tokens,
        "title": "Report ready",
        "body": "Your CBC report is ready",
        "data": {"report_id": 42, "kind": "cbc"},
        "badge": 3,
        "sound": "default",
        "collapse_key": "report-42",
        "ttl": 3600,
        "config": {"apns": config},
    }
    payload.update(fields)
    return {"payload": payload}


def test_token_auth_headers_payload_and_jwt(settings, apns_token):
    fake, config, public_key = apns_token
    fake.answers.update({GONE: (410, "Unregistered"), BAD: (400, "BadDeviceToken")})
    before = int(time.time())
    result = send_push(task(config, [GOOD[0], GONE, BAD]))
    assert (result["sent"], result["failed"], result["invalid"]) == (1, 2, 2)
    assert sorted(json.loads(result["invalid_tokens"])) == sorted([GONE, BAD])
    rows = {row["token"]: row for row in json.loads(result["results"])}
    assert rows[GOOD[0]]["status"] == "sent" and rows[GOOD[0]]["id"].startswith("apns-")
    assert rows[GONE]["reason"] == "APNs 410 Unregistered"
    assert rows[BAD]["reason"] == "APNs 400 BadDeviceToken"
    request = next(r for r in fake.requests if r["path"] == f"/3/device/{GOOD[0]}")
    assert request["http_version"] == "2"
    headers = request["headers"]
    assert headers["apns-topic"] == "com.lab.app"
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "10"
    assert before + 3600 <= int(headers["apns-expiration"]) <= time.time() + 3601
    assert headers["apns-collapse-id"] == "report-42"
    scheme, token = headers["authorization"].split(" ", 1)
    assert scheme == "bearer"
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    claims = jwt.decode(token, public_key, algorithms=["ES256"])
    assert claims["iss"] == "TEAM123456" and isinstance(claims["iat"], int)
    assert before - 1 <= claims["iat"] <= time.time() + 1
    assert json.loads(request["body"]) == {
        "aps": {"alert": {"title": "Report ready", "body": "Your CBC report is ready"}, "badge": 3, "sound": "default"},
        "report_id": 42,
        "kind": "cbc",
    }


def test_tokens_share_one_http2_connection(settings, apns_token):
    fake, config, _ = apns_token
    fake.delay = 0.2
    try:
        started = time.monotonic()
        tokens = [f"{i:02x}" * 32 for i in range(8)]
        assert send_push(task(config, tokens))["sent"] == 8
        elapsed = time.monotonic() - started
    finally:
        fake.delay = 0.0
    ours = [r for r in fake.requests if r["path"].rsplit("/", 1)[-1] in tokens]  # not a stray earlier one
    assert len(ours) == 8 and len({r["client"] for r in ours}) == 1
    assert elapsed < 8 * 0.2, "tokens were sent one after another, not concurrently"


def test_jwt_is_reused_and_renewed_after_50_minutes(settings, apns_token, tls_dir):
    fake, config, _ = apns_token
    send_push(task(config, [GOOD[0]]))
    send_push(task(config, [GOOD[1]]))
    first, second = (r["headers"]["authorization"] for r in fake.requests)
    assert first == second
    key_path, cache = Path(config["key"]), TokenCache("apns", None)
    now = time.time()
    token = apns_auth.provider_token("TEAM123456", "KEY1234567", key_path, cache, now=now + 49 * 60)
    assert f"bearer {token}" == first
    renewed = apns_auth.provider_token("TEAM123456", "KEY1234567", key_path, cache, now=now + 51 * 60)
    assert renewed != token
    assert jwt.decode(renewed, options={"verify_signature": False})["iat"] >= int(now + 51 * 60) - 1


def test_expired_provider_token_younger_than_20_minutes_is_kept(settings, apns_token):
    """Apple answers 429 TooManyProviderTokenUpdates to a key's token renewed within 20 minutes:
    an ExpiredProviderToken for a young token (a clock off) is retried with the same token."""
    fake, config, _ = apns_token
    fake.answers[GOOD[0]] = (403, "ExpiredProviderToken")
    with pytest.raises(ProviderUnavailable) as info:
        send_push(task(config, [GOOD[0]]))
    assert classify(info.value).retryable
    fake.answers.clear()
    send_push(task(config, [GOOD[1]]))
    assert len({r["headers"]["authorization"] for r in fake.requests}) == 1


def test_expired_provider_token_older_than_20_minutes_is_renewed(settings, apns_token):
    fake, config, _ = apns_token
    cache, key_path = TokenCache("apns", None), Path(config["key"])
    old = apns_auth.provider_token("TEAM123456", "KEY1234567", key_path, cache, now=time.time() - 25 * 60)
    fake.answers[GOOD[0]] = (403, "ExpiredProviderToken")
    with pytest.raises(ProviderUnavailable):
        send_push(task(config, [GOOD[0]]))
    fake.answers.clear()
    send_push(task(config, [GOOD[1]]))
    first, second = (r["headers"]["authorization"] for r in fake.requests)
    assert first == f"bearer {old}" and second != first


def test_invalid_provider_token_is_permanent_and_not_re_signed(settings, apns_token):
    fake, config, _ = apns_token
    fake.answers[GOOD[0]] = (403, "InvalidProviderToken")
    with pytest.raises(ProviderRejected, match="InvalidProviderToken"):
        send_push(task(config, [GOOD[0]]))
    fake.answers.clear()
    send_push(task(config, [GOOD[1]]))
    assert len({r["headers"]["authorization"] for r in fake.requests}) == 1


def test_certificate_auth(settings, apns_cert):
    fake, config = apns_cert
    result = send_push(task(config, [GOOD[0]]))
    assert result["sent"] == 1
    (request,) = fake.requests
    assert "authorization" not in request["headers"]
    assert request["headers"]["apns-topic"] == "com.lab.app"


def test_background_push(settings, apns_token):
    fake, config, _ = apns_token
    send_push(task(config, [GOOD[0]], title=None, body=None, badge=None, sound=None, collapse_key=None, ttl=None))
    (request,) = fake.requests
    assert request["headers"]["apns-push-type"] == "background"
    assert request["headers"]["apns-priority"] == "5"
    assert "apns-expiration" not in request["headers"] and "apns-collapse-id" not in request["headers"]
    assert json.loads(request["body"])["aps"] == {"content-available": 1}


@pytest.mark.parametrize(
    "status, reason, error",
    [(503, "ServiceUnavailable", ProviderUnavailable), (429, "TooManyRequests", ProviderUnavailable)],
)
def test_all_tokens_failing_retryably_is_retryable(settings, apns_token, status, reason, error):
    fake, config, _ = apns_token
    fake.answers.update(dict.fromkeys(GOOD, (status, reason)))
    with pytest.raises(error) as info:
        send_push(task(config, GOOD))
    assert classify(info.value).retryable


def test_all_tokens_invalid_is_permanent_with_the_list(settings, apns_token):
    fake, config, _ = apns_token
    fake.answers.update({GONE: (410, "Unregistered"), BAD: (400, "BadDeviceToken")})
    with pytest.raises(InvalidRecipient) as info:
        send_push(task(config, [GONE, BAD, "not-hex"]))
    assert not classify(info.value).retryable
    assert sorted(json.loads(info.value.details["invalid_tokens"])) == sorted([GONE, BAD, "not-hex"])
    assert GONE not in str(info.value)


def test_some_accepted_is_success(settings, apns_token):
    fake, config, _ = apns_token
    fake.answers.update({GOOD[1]: (503, "ServiceUnavailable"), GOOD[2]: (400, "BadTopic")})
    result = send_push(task(config, GOOD))
    assert (result["sent"], result["failed"], result["invalid"]) == (1, 2, 0)
    rows = {row["token"]: row for row in json.loads(result["results"])}
    assert rows[GOOD[1]]["retryable"] is True
    assert rows[GOOD[2]]["reason"] == "APNs 400 BadTopic"


def test_missing_key_is_a_configuration_error(settings, apns_token):
    _, config, _ = apns_token
    with pytest.raises(ConfigurationError, match="not found"):
        send_push(task(dict(config, key="AuthKey_MISSING.p8"), [GOOD[0]]))
    with pytest.raises(ConfigurationError, match="team_id"):
        send_push(task({"key": config["key"]}, [GOOD[0]]))


def test_connection_refused_is_retryable(settings_factory, apns_token):
    _, config, _ = apns_token
    settings_factory(APNS_ENDPOINT="https://127.0.0.1:9")  # a closed loopback port
    with pytest.raises(ProviderUnavailable):
        send_push(task(config, [GOOD[0]]))


def test_rate_limit_retry_after(settings, apns_token):
    fake, config, _ = apns_token
    fake.answers[GOOD[0]] = (429, "TooManyRequests")
    with pytest.raises((RateLimited, ProviderUnavailable)):
        send_push(task(config, [GOOD[0]]))


def test_success_callback_reports_tokens(conn, settings_factory, apns_token, run_each_worker, httpserver):
    """On every worker class (the event-loop class drives the push plan, the HTTP/2 batch a Call)."""
    run_worker = run_each_worker
    fake, config, _ = apns_token
    settings_factory(PUSH_ACCOUNTS={"lab-ios": {"apns": config}})
    fake.answers[GONE] = (410, "Unregistered")
    httpserver.expect_request("/done").respond_with_data("ok")
    push = task({}, [GOOD[0], GONE])
    push["payload"]["config"] = {"account": "lab-ios"}
    enqueue(
        "pn",
        "tasks.push_notification.send_push",
        push,
        connection=conn,
        success_task_handler=httpserver.url_for("/done"),
    )
    run_worker(["pn"])
    (callback,) = [r for r, _ in httpserver.log if r.path == "/done"]
    fields = {k: v[0] for k, v in parse_qs(callback.get_data(as_text=True)).items()}
    assert fields["sent"] == "1" and fields["invalid"] == "1"
    assert json.loads(fields["invalid_tokens"]) == [GONE]
    assert len(json.loads(fields["results"])) == 2


def test_dry_run_sends_nothing(settings_factory, apns_token, caplog):
    fake, config, _ = apns_token
    settings_factory(DRY_RUN=True)
    caplog.set_level("INFO")
    assert send_push(task(config, [GOOD[0]]))["dry_run"] == "true"
    assert fake.requests == []
    assert GOOD[0] not in caplog.text and "Report ready" not in caplog.text


def test_relative_key_path_is_looked_up_in_certificates(settings, apns_token, tmp_path, monkeypatch):
    fake, config, public_key = apns_token
    monkeypatch.setattr("tasks.push.credentials.CERTIFICATES", tmp_path)
    (tmp_path / "AuthKey_LAB.p8").write_bytes(Path(config["key"]).read_bytes())
    assert send_push(task(dict(config, key="AuthKey_LAB.p8"), [GOOD[0]]))["sent"] == 1
    token = fake.requests[0]["headers"]["authorization"].split(" ", 1)[1]
    assert jwt.decode(token, public_key, algorithms=["ES256"])["iss"] == "TEAM123456"
