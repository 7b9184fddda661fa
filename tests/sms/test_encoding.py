"""GSM-7 / UCS-2 detection, segment counting, and the gateways' unicode flags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.gateways.encoding import GSM7, UCS2, Encoding, detect, is_gsm
from tasks.sms import send_sms
from tests.sms.harness import HINDI, NUMBER, only_request, respond, single


@pytest.mark.parametrize(
    ("text", "name", "segments"),
    [
        ("a" * 160, GSM7, 1),
        ("a" * 161, GSM7, 2),
        ("a" * 306, GSM7, 2),
        ("a" * 307, GSM7, 3),
        ("{" * 80, GSM7, 1),  # extension characters count double: 160 septets
        ("{" * 81, GSM7, 2),
        ("€" + "a" * 159, GSM7, 2),
        ("é" * 160, GSM7, 1),  # é is in the basic GSM alphabet
        ("क" * 70, UCS2, 1),
        ("क" * 71, UCS2, 2),
        ("क" * 134, UCS2, 2),
        ("क" * 135, UCS2, 3),
        ("😀" * 35, UCS2, 1),  # an emoji is two UTF-16 units
        ("😀" * 36, UCS2, 2),
        ("Your report\u2019s ready" + "a" * 60, UCS2, 2),  # one typographic apostrophe makes it all UCS-2
    ],
)
def test_encoding_and_segments(text: str, name: str, segments: int) -> None:
    encoding = detect(text)
    assert (encoding.name, encoding.segments) == (name, segments)


def test_unicode_flag_forces_the_encoding() -> None:
    assert detect("plain", unicode=True).name == UCS2
    assert detect(HINDI, unicode=False).name == GSM7


@given(st.text(alphabet="abcXYZ 0123{}€", max_size=500))
def test_gsm_segments_property(text: str) -> None:
    encoding = detect(text)
    assert is_gsm(text) and encoding.name == GSM7
    assert (encoding.segments == 1) == (encoding.length <= 160)
    assert encoding.segments * 153 >= encoding.length


@pytest.mark.parametrize(
    ("gateway", "config", "field", "value"),
    [
        ("msg91_sendhttp", {"auth_key": "k", "sender": "LABXYZ"}, "unicode", "1"),
        ("smsgatewayhub", {"api_key": "k", "sender": "LABXYZ"}, "DCS", "8"),
        ("gupshup", {"userid": "u", "password": "p", "sender": "LABXYZ"}, "msg_type", "Unicode_text"),
        ("routemobile", {"username": "u", "password": "p", "sender": "LABXYZ"}, "type", "2"),
    ],
)
def test_gateway_unicode_flag_and_callback_fields(httpserver, settings, gateway, config, field, value) -> None:
    respond(httpserver, {"response": {"status": "success", "id": "1"}} if gateway == "gupshup" else "x")
    text = HINDI * 4  # 84 characters of Devanagari: two UCS-2 segments
    task = {
        "payload": {
            "task": 1,
            "gateway": gateway,
            "config": {**config, "base_url": httpserver.url_for("/")},
            "to": NUMBER,
            "message": text,
        }
    }
    try:
        result = send_sms(task)
    except Exception:  # the canned answer need not be an acceptance for every gateway here
        result = None
    assert single(only_request(httpserver).args)[field] == value
    if result is not None:
        assert (result["encoding"], result["segments"]) == ("UCS-2", 2)


def test_exotel_unicode_and_segments(httpserver, settings) -> None:
    respond(httpserver, {"SMSMessage": {"Sid": "s1", "Status": "queued"}})
    config = {
        "account_sid": "a",
        "api_key": "k",
        "api_token": "t",
        "sender": "LABXYZ",
        "base_url": httpserver.url_for("/"),
    }
    result = send_sms(
        {"payload": {"task": 1, "gateway": "exotel", "config": config, "to": NUMBER, "message": "Report ready. " * 13}}
    )
    assert single(only_request(httpserver).form)["EncodingType"] == "plain"
    assert (result["encoding"], result["segments"]) == ("GSM-7", 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("😀" * 36, Encoding(UCS2, 2, 72)),  # 72 UTF-16 units
        ("क" * 70, Encoding(UCS2, 1, 70)),
        ("{" * 81, Encoding(GSM7, 2, 162)),  # 162 septets
    ],
)
def test_length_is_the_count_of_units_as_an_integer(text: str, expected: Encoding) -> None:
    encoding = detect(text)
    assert encoding == expected
    assert type(encoding.length) is int and type(encoding.segments) is int
