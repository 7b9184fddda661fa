"""One table-driven test per HTTP gateway against a real server on 127.0.0.1.

Each row (``cases_*.py``) states the provider's documented request; every row is replayed with
the provider's success body, a 200 that reports an error, a 4xx, a 5xx and a timeout.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import errors
from tasks.gateways.registry import GATEWAYS
from tests.sms import cases_europe, cases_india, cases_india_more, cases_regional, cases_world
from tests.sms.harness import Case, blackhole, check_request, only_request, respond, send

CASES: list[Case] = [
    *cases_india.CASES,
    *cases_india_more.CASES,
    *cases_world.CASES,
    *cases_regional.CASES,
    *cases_europe.CASES,
]
#: Gateways tested elsewhere: SNS against moto, ``http`` by its own table.
OWN_TESTS = {"aws_sns", "http", "smpp"}  # tests/sms/test_sns.py, test_http_gateway.py, test_smpp*.py


def ids(case: Case) -> str:
    return case.gateway


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_request_and_success(case: Case, httpserver, settings) -> None:
    respond(httpserver, case.ok, case.ok_status)
    result = send(case, httpserver)
    check_request(case, only_request(httpserver))
    assert result["gateway"] == case.gateway
    assert result["provider_message_id"] == case.message_id
    assert (result["segments"], result["encoding"], result["recipients"]) == (1, "GSM-7", 1)


@pytest.mark.parametrize("case", [c for c in CASES if c.refusal is not None], ids=ids)
def test_error_reported_in_a_200(case: Case, httpserver, settings) -> None:
    respond(httpserver, case.refusal, 200)
    with pytest.raises(getattr(errors, case.refusal_error)) as caught:
        send(case, httpserver)
    assert case.gateway in str(caught.value)
    assert case.refusal_code in str(caught.value)  # the provider's own status or code
    assert "9876543210" not in str(caught.value)


@pytest.mark.parametrize("case", [c for c in CASES if c.retry is not None], ids=ids)
def test_documented_transient_answer_is_retryable(case: Case, httpserver, settings) -> None:
    assert case.retry is not None
    status, body, error = case.retry
    respond(httpserver, body, status)
    with pytest.raises(getattr(errors, error)):
        send(case, httpserver)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_4xx_is_permanent_with_the_provider_message(case: Case, httpserver, settings) -> None:
    respond(httpserver, {"message": "Authentication failed: bad key", "error": "Authentication failed: bad key"}, 401)
    with pytest.raises(errors.ProviderRejected) as caught:
        send(case, httpserver)
    assert "401" in str(caught.value) and "Authentication failed" in str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_5xx_is_retryable(case: Case, httpserver, settings) -> None:
    respond(httpserver, "upstream busy", 503)
    with pytest.raises(errors.ProviderUnavailable, match="503"):
        send(case, httpserver)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_timeout_is_retryable(case: Case, settings_factory) -> None:
    settings_factory(PROVIDER_TIMEOUT=0.2)
    with blackhole() as url, pytest.raises(errors.DeliveryTimeout):
        from tasks.sms import send_sms

        send_sms(case.task(url))


def test_every_gateway_has_a_row() -> None:
    rows = [c.gateway for c in CASES]
    assert len(rows) == len(set(rows))
    assert set(rows) | OWN_TESTS == set(GATEWAYS)


def test_serwersms_user_and_password_still_work(httpserver, settings) -> None:
    """The row sends with the API token (the provider's own client); a user name and password, as
    before, go in the body and no Authorization header is sent."""
    case = next(c for c in CASES if c.gateway == "serwersms")
    legacy = replace(case, config={"username": "sw-user", "password": "sw-pass", "sender": "LABXYZ"}, headers={})
    respond(httpserver, case.ok)
    assert send(legacy, httpserver)["provider_message_id"] == case.message_id
    request = only_request(httpserver)
    assert json.loads(request.get_data()) == {"username": "sw-user", "password": "sw-pass", **case.json}
    assert "Authorization" not in request.headers


def test_serwersms_needs_a_token_or_user_and_password(httpserver, settings) -> None:
    case = next(c for c in CASES if c.gateway == "serwersms")
    for config in ({"sender": "LABXYZ"}, {"username": "sw-user", "sender": "LABXYZ"}):
        with pytest.raises(errors.ConfigurationError, match="api_token or username\\+password"):
            send(replace(case, config=config), httpserver)
    assert not httpserver.log


def test_kannel_queued_for_later_delivery_is_accepted(httpserver, settings) -> None:
    """Kannel's user guide: 202 "3: Queued for later delivery" means stored and delivered later (no SMSC link
    right now), so it is an acceptance, never a failure to retry (which would send the message twice)."""
    case = next(c for c in CASES if c.gateway == "kannel")
    respond(httpserver, "3: Queued for later delivery", 202)
    assert send(case, httpserver)["gateway"] == "kannel"
