"""The ``http`` gateway, configured entirely from its config (like ERPNext's SMS Settings)."""

from __future__ import annotations

import json

import pytest

import errors
from tasks.sms import send_sms
from tests.sms.harness import NUMBER, TEXT, blackhole, only_request, respond, single


def task(config: dict) -> dict:
    return {
        "payload": {"task": 1, "gateway": "http", "config": config, "to": NUMBER, "message": TEXT, "sender": "LABXYZ"}
    }


def config(httpserver, **extra: object) -> dict:
    base = {
        "url": httpserver.url_for("/api/send"),
        "message_param": "text",
        "receiver_param": "mobiles",
        "sender_param": "sender",
        "static_params": {"user": "clinic", "password": "vendor-pass"},
        "headers": {"X-Key": "vendor-key"},
        "success_regex": r"^OK (?P<id>\w+)",
    }
    return {**base, **extra}


def test_post_form(httpserver, settings) -> None:
    respond(httpserver, "OK abc123")
    result = send_sms(task(config(httpserver)))
    request = only_request(httpserver)
    assert (request.method, request.path, request.headers["X-Key"]) == ("POST", "/api/send", "vendor-key")
    assert single(request.form) == {
        "user": "clinic",
        "password": "vendor-pass",
        "sender": "LABXYZ",
        "mobiles": "919876543210",
        "text": TEXT,
    }
    assert result["provider_message_id"] == "abc123" and result["gateway"] == "http"


def test_get_query_with_national_numbers(httpserver, settings) -> None:
    respond(httpserver, "OK q1")
    send_sms(task(config(httpserver, method="GET", number_format="national", sender_param=None)))
    request = only_request(httpserver)
    assert request.method == "GET"
    assert single(request.args) == {"user": "clinic", "password": "vendor-pass", "mobiles": "9876543210", "text": TEXT}


def test_json_body(httpserver, settings) -> None:
    respond(httpserver, "OK j1")
    send_sms(task(config(httpserver, encoding="json", headers={"Authorization": "Token {not-a-placeholder}"})))
    request = only_request(httpserver)
    assert request.headers["Authorization"] == "Token {not-a-placeholder}"
    assert json.loads(request.get_data())["mobiles"] == "919876543210"


def test_success_pattern_not_matched_is_not_accepted(httpserver, settings) -> None:
    respond(httpserver, "ERR invalid credentials")
    with pytest.raises(errors.ProviderRejected, match="invalid credentials"):
        send_sms(task(config(httpserver)))


def test_without_pattern_any_2xx_is_accepted(httpserver, settings) -> None:
    respond(httpserver, "whatever")
    assert send_sms(task(config(httpserver, success_regex="")))["provider_message_id"] == ""


def test_base_url_overrides_url(httpserver, settings) -> None:
    respond(httpserver, "OK b1")
    send_sms(task(config(httpserver, url="https://vendor.invalid/send", base_url=httpserver.url_for("/other"))))
    assert only_request(httpserver).path == "/other"


@pytest.mark.parametrize(
    ("status", "error"), [(503, errors.ProviderUnavailable), (429, errors.RateLimited), (401, errors.ProviderRejected)]
)
def test_status_classification(httpserver, settings, status, error) -> None:
    respond(httpserver, "nope", status)
    with pytest.raises(error):
        send_sms(task(config(httpserver)))


def test_timeout(settings_factory) -> None:
    settings_factory(PROVIDER_TIMEOUT=0.2)
    with blackhole() as url, pytest.raises(errors.DeliveryTimeout):
        send_sms(task({"url": url}))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"url": ""}, "url"),
        ({"method": "PUT"}, "method"),
        ({"encoding": "xml"}, "encoding"),
        ({"static_params": ["a"]}, "static_params"),
    ],
)
def test_bad_config_is_a_configuration_error(httpserver, settings, bad, reason) -> None:
    with pytest.raises(errors.ConfigurationError, match=reason):
        send_sms(task(config(httpserver, **bad)))
    assert httpserver.log == []
