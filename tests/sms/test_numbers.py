"""Numbers: normalised with phonenumbers (region from the deployment zone), invalid ones refused
before any request, written in each gateway's format."""

from __future__ import annotations

import pytest

import errors
from tasks.gateways.numbers import default_region, masked, normalise, normalise_all, write
from tasks.sms import send_sms
from tests.sms.harness import TEXT, respond, single, textlocal_ok


def test_formats() -> None:
    assert write("+919876543210", "e164") == "+919876543210"
    assert write("+919876543210", "plain") == "919876543210"
    assert write("+919876543210", "national") == "9876543210"


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("9876543210", "IN", "+919876543210"),
        ("098765 43210", "IN", "+919876543210"),
        ("+91 98765-43210", "US", "+919876543210"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("050 123 4567", "AE", "+971501234567"),
    ],
)
def test_normalise(raw: str, region: str, e164: str) -> None:
    assert normalise(raw, region) == e164


def test_zone_regions() -> None:
    assert [default_region(z) for z in ("IN", "US", "AE", "uae")] == ["IN", "US", "AE", "AE"]


def test_list_and_comma_string_dedupe() -> None:
    assert normalise_all(["9876543210", "+919876543210", "9123456780"], "IN") == ["+919876543210", "+919123456780"]
    assert normalise_all("9876543210, 9123456780", "IN") == ["+919876543210", "+919123456780"]


@pytest.mark.parametrize("bad", ["12345", "not a number", "+91 55555", "+1 000 000 0000"])
def test_invalid_number_fails_before_any_request(httpserver, settings, bad) -> None:
    config = {"api_key": "k", "base_url": httpserver.url_for("/")}
    task = {
        "payload": {"task": 1, "gateway": "textlocal", "config": config, "to": ["9876543210", bad], "message": TEXT}
    }
    with pytest.raises((errors.InvalidRecipient, errors.InvalidPayload)) as caught:
        send_sms(task)
    assert "98765" not in str(caught.value)
    assert httpserver.log == []


def test_region_follows_the_deployment_zone(httpserver, settings_factory) -> None:
    settings_factory(CRELIO_DEPLOYMENT_ZONE="US")
    respond(httpserver, textlocal_ok("+12025550143"))
    config = {"api_key": "k", "base_url": httpserver.url_for("/")}
    send_sms({"payload": {"task": 1, "gateway": "textlocal", "config": config, "to": "202-555-0143", "message": "hi"}})
    assert single(httpserver.log[0][0].form)["numbers"] == "12025550143"


def test_several_numbers_share_one_request(httpserver, settings) -> None:
    respond(httpserver, textlocal_ok("+919876543210", "+919123456780", batch=7))
    config = {"api_key": "k", "base_url": httpserver.url_for("/")}
    result = send_sms(
        {
            "payload": {
                "task": 1,
                "gateway": "textlocal",
                "config": config,
                "to": ["9876543210", "9123456780"],
                "message": "hi",
            }
        }
    )
    assert single(httpserver.log[0][0].form)["numbers"] == "919876543210,919123456780"
    assert result["recipients"] == 2 and len(httpserver.log) == 1


@pytest.mark.parametrize("to", ["", [], [""], " , "])
def test_no_recipient(settings, to) -> None:
    task = {"payload": {"task": 1, "gateway": "textlocal", "config": {"api_key": "k"}, "to": to, "message": TEXT}}
    with pytest.raises((errors.InvalidRecipient, errors.InvalidPayload)):
        send_sms(task)


def test_unknown_zone_is_its_own_region_and_no_zone_is_india() -> None:
    assert default_region("de") == "DE"
    assert default_region("uk") == "GB"
    assert default_region("") == "IN"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("+91 98765-43210", "********3210"), ("3210", "3210"), ("12", "12"), ("no digits here", "(no digits)")],
)
def test_masked_keeps_only_the_last_four_digits(raw: str, shown: str) -> None:
    assert masked(raw) == shown


def test_invalid_number_reasons_show_the_number_masked() -> None:
    with pytest.raises(errors.InvalidRecipient) as unparsable:
        normalise("+999 12", "IN")
    assert str(unparsable.value).startswith("invalid phone number *9912: ")
    with pytest.raises(errors.InvalidRecipient) as invalid:
        normalise("+1 000 000 0000", "IN")
    assert str(invalid.value) == "invalid phone number *******0000 for region IN"


def test_comma_string_without_spaces_and_empty_items() -> None:
    assert normalise_all("9876543210,9123456780", "IN") == ["+919876543210", "+919123456780"]
    assert normalise_all("9876543210,, ,9123456780", "IN") == ["+919876543210", "+919123456780"]
    with pytest.raises(errors.InvalidRecipient, match=r"^no recipient number$"):
        normalise_all(" , ", "IN")


def test_unknown_number_format_is_named() -> None:
    with pytest.raises(ValueError, match=r"^unknown number format 'dialled'$"):
        write("+919876543210", "dialled")
