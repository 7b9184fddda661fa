"""FCM HTTP v1 through pyfcm against a local server; the OAuth token comes from a local token_uri."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from errors import ConfigurationError, InvalidPayload, ProviderRejected, ProviderUnavailable, RateLimited
from rq_ext.classify import classify
from tasks.push_notification import send_push
from tests.channels.push_fakes import ACCESS_TOKEN

OK, GONE, BAD = "fcm-token-ok:APA91bAAAA", "fcm-token-gone:APA91bBBBB", "fcm-token-bad:APA91bCCCC"
NOT_VALID = "The registration token is not a valid FCM registration token"


def task(config: dict, tokens: list[str], platform: str = "android", **fields) -> dict:
    payload = {
        "task": 3,
        "platform": platform,
        "tokens": tokens,
        "title": "Report ready",
        "body": "Your CBC report is ready",
        "data": {"report_id": 42, "kind": "cbc"},
        "image": "https://lab.example/logo.png",
        "collapse_key": "report-42",
        "ttl": 3600,
        "sound": "default",
        "config": {"fcm": config},
    }
    payload.update(fields)
    return {"payload": payload}


def test_android_tokens_and_invalid_ones(settings, fcm):
    fake, config = fcm
    fake.answers[GONE] = (404, "UNREGISTERED", "Requested entity was not found.", {})
    fake.answers[BAD] = (400, "INVALID_ARGUMENT", NOT_VALID, {})
    result = send_push(task(config, [OK, GONE, BAD]))
    assert (result["sent"], result["invalid"], result["provider"]) == (1, 2, "fcm")
    assert sorted(json.loads(result["invalid_tokens"])) == sorted([GONE, BAD])
    rows = {row["token"]: row for row in json.loads(result["results"])}
    assert rows[OK]["id"].startswith("projects/test-proj/messages/")
    assert rows[GONE]["reason"] == "FCM 404 UNREGISTERED"
    sent = next(s for s in fake.sends if s["body"]["message"]["token"] == OK)
    assert sent["headers"]["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent["body"] == {
        "message": {
            "token": OK,
            "notification": {
                "title": "Report ready",
                "body": "Your CBC report is ready",
                "image": "https://lab.example/logo.png",
            },
            "data": {"report_id": "42", "kind": "cbc"},
            "android": {
                "priority": "high",
                "collapse_key": "report-42",
                "ttl": "3600s",
                "notification": {"sound": "default"},
            },
        },
        "validate_only": False,
    }


def test_oauth_token_fetched_once_from_the_service_account_token_uri(settings, fcm):
    fake, config = fcm
    send_push(task(config, [f"tok-{i}" for i in range(6)]))
    send_push(task(config, ["tok-again"]))
    (grant,) = fake.token_requests
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        grant["assertion"], fake.public_key, algorithms=["RS256"], audience="https://oauth2.googleapis.com/token"
    )
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["iss"] == config["service_account"]["client_email"]


def test_service_account_from_a_path_and_from_json_text(settings, fcm, tmp_path):
    _, config = fcm
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(config["service_account"]))
    assert send_push(task({"service_account": str(path)}, [OK]))["sent"] == 1
    assert send_push(task({"service_account": json.dumps(config["service_account"])}, [OK]))["sent"] == 1


def test_web_push_options(settings, fcm):
    fake, config = fcm
    send_push(task(config, [OK], platform="web"))
    message = fake.sends[0]["body"]["message"]
    assert message["webpush"] == {"headers": {"Urgency": "high", "TTL": "3600"}}
    assert "android" not in message


def test_ios_without_apns_config_goes_through_fcm(settings, fcm):
    fake, config = fcm
    send_push(task(config, [OK], platform="ios", badge=2))
    apns = fake.sends[0]["body"]["message"]["apns"]
    assert apns == {
        "headers": {"apns-priority": "10", "apns-collapse-id": "report-42"},
        "payload": {"aps": {"badge": 2, "sound": "default"}},
    }


def test_server_errors_for_all_tokens_are_retryable(settings, fcm):
    fake, config = fcm
    fake.answers.update({t: (500, "INTERNAL", "boom", {}) for t in (OK, GONE)})
    with pytest.raises(ProviderUnavailable) as info:
        send_push(task(config, [OK, GONE]))
    assert classify(info.value).retryable


def test_quota_retry_after_is_carried_without_sleeping(settings, fcm):
    fake, config = fcm
    fake.answers[OK] = (429, "QUOTA_EXCEEDED", "Quota exceeded", {"Retry-After": "30"})
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        send_push(task(config, [OK]))
    assert time.monotonic() - started < 5
    assert info.value.retry_after == 30
    assert len(fake.sends) == 1


def test_invalid_argument_not_about_the_token_is_permanent_not_invalid(settings, fcm):
    fake, config = fcm
    fake.answers[OK] = (400, "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'", {})
    with pytest.raises(ProviderRejected) as info:
        send_push(task(config, [OK]))
    assert json.loads(info.value.details["invalid_tokens"]) == []
    assert not classify(info.value).retryable


def test_sender_mismatch_is_permanent(settings, fcm):
    fake, config = fcm
    fake.answers[OK] = (403, "SENDER_ID_MISMATCH", "SenderId mismatch", {})
    with pytest.raises(ProviderRejected, match="403"):
        send_push(task(config, [OK]))


def test_refused_oauth_grant_is_a_configuration_error(settings, fcm):
    fake, config = fcm
    fake.token_status = 400
    with pytest.raises(ConfigurationError, match="OAuth"):
        send_push(task(config, [OK]))
    assert fake.sends == []


def test_bad_service_account_and_payload(settings, fcm):
    _, config = fcm
    with pytest.raises(ConfigurationError):
        send_push(task({"service_account": "{not json"}, [OK]))
    with pytest.raises(ConfigurationError):
        send_push(task({"service_account": "missing-file.json"}, [OK]))
    with pytest.raises(ConfigurationError, match="fcm"):
        send_push(task(config, [OK]) | {"payload": {**task(config, [OK])["payload"], "config": {}}})
    with pytest.raises(InvalidPayload, match="platform"):
        send_push(task(config, [OK], platform="blackberry"))


def test_not_found_without_unregistered_is_not_an_invalid_token(settings, fcm):
    fake, config = fcm
    fake.answers[OK] = (404, "", "Requested entity was not found.", {})
    with pytest.raises(ProviderRejected, match="404") as info:
        send_push(task(config, [OK]))
    assert json.loads(info.value.details["invalid_tokens"]) == []


def test_token_uri_outside_google_goes_through_the_ssrf_guard(settings, fcm):
    fake, config = fcm
    account = dict(config["service_account"], token_uri="http://169.254.169.254/computeMetadata/v1/token")
    with pytest.raises(ProviderRejected, match="metadata"):
        send_push(task({"service_account": account}, [OK]))
    assert fake.sends == [] and fake.token_requests == []
