"""Every gateway with a unicode flag sets it, in the provider's own type, for a Hindi text and for
a text that is GSM-7 but for one typographic apostrophe (U+2019)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tasks.gateways.encoding import UCS2, detect
from tasks.gateways.registry import GATEWAYS
from tasks.gateways.spec import FORM, JSON
from tasks.sms import send_sms
from tests.sms.harness import APOSTROPHE, HINDI, Case, only_request, respond, send, single
from tests.sms.test_gateways import CASES

FLAGGED = [(c, text) for c in CASES if GATEWAYS[c.gateway].unicode for text in (HINDI, APOSTROPHE)]


def at(data: Any, path: str) -> Any:
    """The value at ``messages[].type`` / ``[].language`` (the first element of each list)."""
    for part in path.split("."):
        name, listed = part.removesuffix("[]"), part.endswith("[]")
        data = data[name] if name else data
        data = data[0] if listed else data
    return data


def sent_flag(case: Case, request: Any) -> Any:
    gateway = GATEWAYS[case.gateway]
    assert gateway.unicode is not None
    if gateway.encoding == JSON:
        return at(json.loads(request.get_data()), gateway.unicode[0])
    values = request.form if gateway.encoding == FORM else request.args
    return single(values)[gateway.unicode[0]]


def test_the_apostrophe_alone_makes_a_text_ucs2() -> None:
    assert detect(APOSTROPHE).name == UCS2 and detect(APOSTROPHE.replace("\u2019", "'")).name != UCS2


def test_brevo_sends_a_json_boolean(httpserver, settings) -> None:
    brevo = replace(next(c for c in CASES if c.gateway == "brevo"), payload={"message": APOSTROPHE})
    respond(httpserver, brevo.ok, brevo.ok_status)
    send(brevo, httpserver)
    assert json.loads(only_request(httpserver).get_data())["unicodeEnabled"] is True


def test_nic_sends_a_ucs2_text_as_hex_after_the_byte_order_mark(httpserver, settings) -> None:
    """NIC's guide: ``msgType=UC`` and the message as hex UTF-16BE after FEFF; a GSM-7 text as it is."""
    nic = next(c for c in CASES if c.gateway == "nic")
    for text, message in ((HINDI, "FEFF" + HINDI.encode("utf-16-be").hex().upper()), (nic.form["message"], None)):
        httpserver.clear()
        respond(httpserver, nic.ok, nic.ok_status)
        send(replace(nic, payload={**nic.payload, "message": text}), httpserver)
        form = single(only_request(httpserver).form)
        assert form["message"] == (message or text) and form.get("msgType") == ("UC" if message else None)
    assert message is None and form["message"].startswith("Your report")


@pytest.mark.parametrize(
    ("case", "text"), FLAGGED, ids=[f"{c.gateway}-{'hi' if t == HINDI else 'quote'}" for c, t in FLAGGED]
)
def test_unicode_flag_in_the_providers_type(case: Case, text: str, httpserver, settings) -> None:
    gateway = GATEWAYS[case.gateway]
    assert gateway.unicode is not None
    respond(httpserver, case.ok, case.ok_status)
    task = case.task(httpserver.url_for("/").rstrip("/"))
    task["payload"]["message"] = text
    result = send_sms(task)
    value = sent_flag(case, only_request(httpserver))
    expected = gateway.unicode[2]
    if gateway.encoding == JSON:
        assert value == expected and type(value) is type(expected)  # a string, a number or a JSON boolean
    else:
        assert value == (json.dumps(expected) if isinstance(expected, bool) else str(expected))
    assert result["encoding"] == UCS2
