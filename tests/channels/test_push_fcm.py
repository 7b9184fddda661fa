"""FCM HTTP v1 through pyfcm against a local server; the OAuth token comes from a local token_uri."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import jwt
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from errors import (
    ConfigurationError,
    InvalidPayload,
    InvalidRecipient,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from rq_ext import enqueue
from rq_ext.classify import classify
from rq_ext.ledger import Ledger
from tasks.push import fcm_errors
from tasks.push_notification import send_push
from tests.channels.push_fakes import ACCESS_TOKEN, bad_request, fcm_code, fcm_error

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


def test_oauth_token_fetched_once_from_the_token_endpoint_setting(settings, fcm):
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


def test_a_service_account_token_uri_is_ignored_for_the_setting(settings, fcm):
    """A payload-supplied account cannot aim the signed grant at the metadata service: the grant
    goes to FCM_OAUTH_TOKEN_URI whatever ``token_uri`` says."""
    fake, config = fcm
    account = dict(config["service_account"], token_uri="http://169.254.169.254/computeMetadata/v1/token")
    assert send_push(task({"service_account": account}, [OK]))["sent"] == 1
    assert len(fake.token_requests) == 1 and len(fake.sends) == 1


# -- errors read from the structured details (google.rpc.BadRequest, FcmError.errorCode) -------

INVALID_ARGUMENT = "Request contains an invalid argument."


def test_invalid_argument_with_a_message_token_violation_is_an_invalid_token(settings, fcm):
    """FCM's answer to a malformed registration token: the message says nothing about the token,
    the ``google.rpc.BadRequest`` field violation does."""
    fake, config = fcm
    fake.bodies[BAD] = (
        400,
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            INVALID_ARGUMENT,
            fcm_code("INVALID_ARGUMENT"),
            bad_request("message.token", "Invalid registration token"),
        ),
    )
    result = send_push(task(config, [OK, BAD]))
    assert json.loads(result["invalid_tokens"]) == [BAD]
    rows = {row["token"]: row for row in json.loads(result["results"])}
    assert rows[BAD] == {
        "token": BAD,
        "status": "invalid",
        "reason": "FCM 400 INVALID_ARGUMENT (message.token: Invalid registration token)",
    }
    with pytest.raises(InvalidRecipient) as info:
        send_push(task(config, [BAD]))
    assert json.loads(info.value.details["invalid_tokens"]) == [BAD]
    assert not classify(info.value).retryable
    assert BAD not in str(info.value)


def test_violation_without_the_fcm_detail_is_read_too(settings, fcm):
    fake, config = fcm
    body = fcm_error(400, "INVALID_ARGUMENT", INVALID_ARGUMENT, bad_request("message.token", "Invalid"))
    fake.bodies[BAD] = (400, body)
    with pytest.raises(InvalidRecipient):
        send_push(task(config, [BAD]))


@pytest.mark.parametrize(
    "body",
    [
        # a payload FCM refused (too large): no details at all
        fcm_error(400, "INVALID_ARGUMENT", INVALID_ARGUMENT),
        # a missing recipient: the violation names ``message``, not ``message.token``
        fcm_error(400, "INVALID_ARGUMENT", "Recipient of the message is not set.", bad_request("message", "unset")),
        # another field, even with a message that mentions a token
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid value (token bucket)",
            fcm_code("INVALID_ARGUMENT"),
            bad_request("message.android.ttl", "Invalid duration"),
        ),
    ],
    ids=["no-details", "message-unset", "other-field"],
)
def test_invalid_argument_about_something_else_is_rejected_not_invalid(settings, fcm, body):
    fake, config = fcm
    fake.bodies[OK] = (400, body)
    with pytest.raises(ProviderRejected) as info:
        send_push(task(config, [OK]))
    assert not isinstance(info.value, InvalidRecipient)
    assert json.loads(info.value.details["invalid_tokens"]) == []


@pytest.mark.parametrize(
    "status, code, retryable",
    [
        (404, "UNREGISTERED", None),
        (429, "QUOTA_EXCEEDED", True),
        (503, "UNAVAILABLE", True),
        (500, "INTERNAL", True),
        (401, "THIRD_PARTY_AUTH_ERROR", False),
        (403, "SENDER_ID_MISMATCH", False),
    ],
)
def test_fcm_error_codes(settings, fcm, status, code, retryable):
    fake, config = fcm
    canonical = {404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 500: "INTERNAL"}
    fake.bodies[OK] = (status, fcm_error(status, canonical.get(status, "PERMISSION_DENIED"), "x", fcm_code(code)))
    with pytest.raises((InvalidRecipient, ProviderRejected, ProviderUnavailable, RateLimited)) as info:
        send_push(task(config, [OK]))
    if retryable is None:
        assert isinstance(info.value, InvalidRecipient)
        assert json.loads(info.value.details["invalid_tokens"]) == [OK]
    else:
        assert classify(info.value).retryable is retryable
        assert not isinstance(info.value, InvalidRecipient)
    assert code in str(info.value)


def test_expired_access_token_is_granted_anew_once(settings, fcm):
    fake, config = fcm
    fake.expired.add(ACCESS_TOKEN)
    assert send_push(task(config, [OK]))["sent"] == 1
    assert len(fake.token_requests) == 2
    assert [s["headers"]["Authorization"] for s in fake.sends] == [
        f"Bearer {ACCESS_TOKEN}",
        f"Bearer {ACCESS_TOKEN}-2",
    ]
    send_push(task(config, [OK]))
    assert len(fake.token_requests) == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
error_bodies = st.fixed_dictionaries(
    {},
    optional={
        "error": st.fixed_dictionaries(
            {},
            optional={
                "status": json_values,
                "message": json_values,
                "details": st.lists(
                    st.fixed_dictionaries(
                        {"@type": st.sampled_from([fcm_errors.FCM_ERROR, fcm_errors.BAD_REQUEST, "x"])},
                        optional={"errorCode": json_values, "fieldViolations": json_values},
                    )
                    | json_values,
                    max_size=3,
                )
                | json_values,
            },
        )
        | json_values
    },
)


@hsettings(max_examples=200, deadline=None)
@given(status=st.sampled_from([400, 401, 403, 404, 429, 500, 503]), body=error_bodies | json_values)
def test_any_error_body_is_read_without_raising(status, body):
    answer = fcm_errors.parse(status, body)
    assert isinstance(answer.label(), str)
    assert answer.token_is_invalid in (True, False) and answer.retryable in (True, False)


def callback_fields(httpserver) -> dict[str, str]:
    (callback,) = [r for r, _ in httpserver.log if r.path == "/done"]
    return {k: v[0] for k, v in parse_qs(callback.get_data(as_text=True)).items()}


def test_success_callback_on_every_worker_class(conn, settings_factory, fcm, run_each_worker, httpserver):
    """The event-loop class sends FCM's requests through aiohttp: the same results and callback."""
    fake, config = fcm
    settings_factory(PUSH_ACCOUNTS={"lab": {"fcm": config}})
    fake.answers[GONE] = (404, "UNREGISTERED", "Requested entity was not found.", {})
    httpserver.expect_request("/done").respond_with_data("ok")
    push = task({}, [OK, GONE])
    push["payload"]["config"] = {"account": "lab"}
    enqueue(
        "pn",
        "tasks.push_notification.send_push",
        push,
        connection=conn,
        success_task_handler=httpserver.url_for("/done"),
    )
    run_each_worker(["pn"])
    fields = callback_fields(httpserver)
    assert (fields["sent"], fields["invalid"]) == ("1", "1") and json.loads(fields["invalid_tokens"]) == [GONE]
    assert {s["headers"]["Authorization"] for s in fake.sends} == {f"Bearer {ACCESS_TOKEN}"}
    assert len(fake.token_requests) == 1


def test_tokens_accepted_before_are_not_sent_again_on_every_worker_class(conn, settings_factory, fcm, run_each_worker,
                                                                          httpserver):  # fmt: skip
    fake, config = fcm
    settings_factory(PUSH_ACCOUNTS={"lab": {"fcm": config}})
    httpserver.expect_request("/done").respond_with_data("ok")
    push = task({}, [OK, BAD])
    push["payload"]["config"] = {"account": "lab"}
    job = enqueue("pn", "tasks.push_notification.send_push", push, connection=conn,
                  success_task_handler=httpserver.url_for("/done"))  # fmt: skip
    Ledger("push", job_id=job.id, connection=conn).record(OK, "projects/test-proj/messages/before")
    run_each_worker(["pn"])
    assert [s["body"]["message"]["token"] for s in fake.sends] == [BAD]
    rows = {row["token"]: row for row in json.loads(callback_fields(httpserver)["results"])}
    assert rows[OK]["id"] == "projects/test-proj/messages/before" and rows[BAD]["status"] == "sent"
    assert Ledger("push", job_id=job.id, connection=conn).accepted(BAD).startswith("projects/test-proj/messages/")
