"""Reading the SMS payload: overrides, defaults, accounts and bad input (all before any request)."""

from __future__ import annotations

import pytest

import errors
from tasks.sms import send_sms
from tests.sms.harness import NUMBER, TEXT, respond, single, textlocal_ok

OK = textlocal_ok(NUMBER)


def task(httpserver, **payload: object) -> dict:
    config = {"api_key": "k", "sender": "CFGSND", "base_url": httpserver.url_for("/")}
    body = {"task": 1, "gateway": "textlocal", "config": config, "to": NUMBER, "message": TEXT}
    return {"payload": {**body, **payload}}


def test_payload_sender_overrides_config(httpserver, settings) -> None:
    respond(httpserver, OK)
    send_sms(task(httpserver, sender="PAYSND"))
    assert single(httpserver.log[0][0].form)["sender"] == "PAYSND"


def test_config_defaults_for_sender_and_template(httpserver, settings) -> None:
    respond(
        httpserver, {"ErrorCode": "000", "JobId": "j", "MessageData": [{"Number": "919876543210", "MessageId": "m"}]}
    )
    config = {
        "api_key": "k",
        "sender": "CFGSND",
        "template_id": 1207000000000000001,
        "dlt_entity_id": "1201",
        "base_url": httpserver.url_for("/"),
    }
    send_sms({"payload": {"task": 1, "gateway": "smsgatewayhub", "config": config, "to": NUMBER, "message": TEXT}})
    args = single(httpserver.log[0][0].args)
    assert (args["senderid"], args["DLTTemplateId"], args["PEID"]) == ("CFGSND", "1207000000000000001", "1201")


def test_numeric_template_id_in_payload(httpserver, settings) -> None:
    respond(
        httpserver, {"ErrorCode": "000", "JobId": "j", "MessageData": [{"Number": "919876543210", "MessageId": "m"}]}
    )
    config = {"api_key": "k", "sender": "S", "base_url": httpserver.url_for("/")}
    send_sms(
        {
            "payload": {
                "task": 1,
                "gateway": "smsgatewayhub",
                "config": config,
                "to": NUMBER,
                "message": TEXT,
                "template_id": 1207161234567890123,
            }
        }
    )
    assert single(httpserver.log[0][0].args)["DLTTemplateId"] == "1207161234567890123"


def test_account_with_inline_overrides(httpserver, settings_factory) -> None:
    settings_factory(
        SMS_ACCOUNTS={"lab": {"gateway": "textlocal", "api_key": "acct-key", "base_url": httpserver.url_for("/")}}
    )
    respond(httpserver, OK)
    send_sms(
        {
            "payload": {
                "task": 1,
                "account": "lab",
                "gateway": "textlocal",
                "config": {"sender": "OVR"},
                "to": NUMBER,
                "message": TEXT,
            }
        }
    )
    form = single(httpserver.log[0][0].form)
    assert (form["apikey"], form["sender"]) == ("acct-key", "OVR")


@pytest.mark.parametrize(
    ("accounts", "payload", "error", "reason"),
    [
        ({}, {"account": "nope"}, errors.ConfigurationError, "unknown account 'nope'"),
        (
            {"lab": {"gateway": "msg91", "auth_key": "k"}},
            {"account": "lab", "gateway": "textlocal"},
            errors.ConfigurationError,
            "is for gateway 'msg91'",
        ),
        ({"lab": {"api_key": "k"}}, {"account": "lab"}, errors.ConfigurationError, "names no gateway"),
    ],
)
def test_bad_accounts(settings_factory, accounts, payload, error, reason) -> None:
    settings_factory(SMS_ACCOUNTS=accounts)
    with pytest.raises(error, match=reason):
        send_sms({"payload": {"task": 1, "to": NUMBER, "message": TEXT, **payload}})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"message": ""}, "message is missing"),
        ({"message": 42}, "message has the wrong type"),
        ({"to": {"n": 1}}, "to has the wrong type"),
        ({"to": [["+919876543210"]]}, "list of numbers"),
        ({"unicode": "yes"}, "unicode has the wrong type"),
        ({"fallback": {"gateway": "x"}}, "fallback must be a list"),
        ({"fallback": ["textlocal"]}, "fallback\\[0\\] must be an object"),
        ({"gateway": None}, "gateway is missing"),
        ({"config": "k=v"}, "config has the wrong type"),
        ({"task": 5}, "expected 1"),
    ],
)
def test_bad_payload_is_invalid(httpserver, settings, change, reason) -> None:
    with pytest.raises(errors.InvalidPayload, match=reason):
        send_sms(task(httpserver, **change))
    assert httpserver.log == []
