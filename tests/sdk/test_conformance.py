"""Each gateway's request against the one its provider's official SDK builds, and the provider's
documented answers read by both.

For every row of rows.py: the SDK (in its own environment, ``.venv-sdk``, via a driver
subprocess) sends one message to a recording server on 127.0.0.1, then the gateway sends the same
message to the same server; the two requests are normalised (compare.py) and must be equal:
method, path, query, content type, credentials and where each goes, every body field (recipient,
sender, text and number format, Unicode flag, DLT ids), less the row's ``ignore`` list. Then each
documented answer is replayed to both: an acceptance must give the same message id through the
SDK and the gateway, a refusal the gateway's classified error (and the SDK's own error, where the
SDK raises one).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request

import errors
from tasks.sms import send_sms
from tasks.whatsapp import send_whatsapp
from tests.sdk.compare import dig, normalise, prune_nulls, without
from tests.sdk.rows import DLT, ENTITY, GSM, PAIR, ROWS, TEMPLATE, UCS2, Answer, Row
from tests.sms.harness import HINDI, NUMBER, OTHER, TEXT, respond

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().parent / "drivers" / "run.py"


def sdk_python(row: Row) -> Path:
    """The interpreter of the row's SDK environment (``make sdk-env``: the SDKs' pins clash with
    the worker's, and with each other's); skip without it, except in CI where it must exist."""
    python = ROOT / f".venv-{row.venv}" / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{python} is missing: `make sdk-env` creates it (a prerequisite of make test)")
        pytest.skip(f"{python} is missing: run `make sdk-env` to compare the gateways with the SDKs")
    return python


def message(variant: str) -> dict[str, Any]:
    """What one send carries: the text, and the DLT ids for the ``dlt`` variant."""
    text = HINDI if variant == UCS2 else TEXT
    dlt = {"dlt_entity_id": ENTITY, "template_id": TEMPLATE} if variant == DLT else {}
    return {"text": text, "unicode": variant == UCS2, **dlt}


def drive(python: Path, row: Row, variant: str, base_url: str) -> dict[str, Any]:
    """Send with the row's SDK; the driver's result (``ok`` and ``id`` or ``error``)."""
    to: str | list[str] = list(row.pair) if variant == PAIR and row.pair else row.number
    job = {"driver": row.driver, "base_url": base_url, "config": row.config, "to": to, "sender": row.sender}
    job.update(message(variant))
    job["whatsapp"] = row.whatsapp or None
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    done = subprocess.run(
        [str(python), "-E", "-s", str(DRIVER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def send(row: Row, variant: str, base_url: str) -> dict[str, Any]:
    """Send the same message through the gateway (the worker's job function)."""
    sent = message(variant)
    config = {**row.config, "base_url": base_url}
    if "dlt_entity_id" in sent:
        config["dlt_entity_id"] = sent["dlt_entity_id"]
    payload: dict[str, Any] = {
        "gateway": row.gateway,
        "config": config,
        "to": [NUMBER, OTHER] if variant == PAIR else NUMBER,
    }
    if row.channel == "whatsapp":
        return send_whatsapp({"payload": {"task": 5, **payload, **row.whatsapp}, "reference": "ref-sdk"})
    payload.update(message=sent["text"], template_id=sent.get("template_id"))
    return send_sms({"payload": {"task": 1, **payload}, "reference": "ref-sdk"})


def one_request(httpserver: Any) -> Request:
    requests = [request for request, _ in httpserver.log]
    assert len(requests) == 1, [r.url for r in requests]
    httpserver.clear_log()
    return requests[0]


def comparable(row: Row, request: Request) -> dict[str, Any]:
    credentials = {key: row.config[key] for key in row.credentials}
    normalised = normalise(request, credentials, row.headers)
    if row.nulls_absent:
        normalised["body"] = prune_nulls(normalised["body"])
    return without(normalised, row.ignore)


def expected(row: Row, variant: str) -> dict[str, Any]:
    """The value each named role must have in the SDK's request."""
    sent = message(variant)
    values: dict[str, Any] = {"to": row.number, "text": sent["text"], "sender": row.sender}
    if variant == PAIR:
        values.pop("to")  # both numbers: the request as a whole is compared
    if variant == DLT:
        values.update(dlt_entity=ENTITY, dlt_template=TEMPLATE)
    if row.channel == "whatsapp":
        values.pop("text")
        document = row.whatsapp.get("document")
        if document:
            values.update(text=document.get("caption"), media=document["url"])
    return values


CASES = [pytest.param(row, variant, id=f"{row.name}-{variant}") for row in ROWS for variant in row.variants]
ANSWERS = [pytest.param(row, answer, id=f"{row.name}-{answer.name}") for row in ROWS for answer in row.answers]


@pytest.mark.parametrize(("row", "variant"), CASES)
def test_request_is_the_sdks(row: Row, variant: str, httpserver: Any, settings: Any) -> None:
    accepted = row.answers[0]
    respond(httpserver, accepted.body, accepted.status)
    base_url = httpserver.url_for("/").rstrip("/")

    result = drive(sdk_python(row), row, variant, base_url)
    assert result["ok"], result
    by_sdk = comparable(row, one_request(httpserver))
    try:
        send(row, variant, base_url)
    except errors.FusionError:
        assert variant == PAIR  # the one-number answer leaves the second number unconfirmed: only the request counts
    by_gateway = comparable(row, one_request(httpserver))

    assert by_gateway == by_sdk
    for role, value in expected(row, variant).items():
        if role in row.fields:
            assert dig(by_sdk, row.fields[role]) == value, role
    for role, path in row.fields.items():
        present = dig(by_sdk, path) not in (None, "")
        assert present is (variant == DLT or not role.startswith("dlt_")), f"{role} at {path}"
    if row.unicode is not None:
        path, flag = row.unicode
        assert (dig(by_sdk, path) == flag) is (variant == UCS2), f"unicode flag at {path}"


@pytest.mark.parametrize(("row", "answer"), ANSWERS)
def test_answer_is_read_as_the_sdk_reads_it(row: Row, answer: Answer, httpserver: Any, settings: Any) -> None:
    respond(httpserver, answer.body, answer.status)
    base_url = httpserver.url_for("/").rstrip("/")

    result = drive(sdk_python(row), row, GSM, base_url)
    assert result["ok"] is answer.sdk_ok, result
    if answer.outcome == "accepted":
        assert result["id"] == answer.message_id
        assert send(row, GSM, base_url)["provider_message_id"] == answer.message_id
    else:
        with pytest.raises(errors.FusionError) as caught:
            send(row, GSM, base_url)
        assert caught.type is getattr(errors, answer.outcome), caught.value


def test_rows_pins_and_sources_agree() -> None:
    """Each row's definition says ``sdk: <pin>``, each pin is in requirements-sdk.txt, and every
    definition claiming an SDK check has a row."""
    from tasks.gateways.registry import GATEWAYS
    from tasks.whatsapp_providers.registry import PROVIDERS_BY_NAME

    checked: set[tuple[str, str]] = set()
    for row in ROWS:
        definition = (PROVIDERS_BY_NAME if row.channel == "whatsapp" else GATEWAYS)[row.gateway]
        pins = (ROOT / f"requirements-{row.venv}.txt").read_text().splitlines()
        pin = row.sdk.split(" ")[0]
        assert pin in pins, pin
        assert definition.source.startswith("sdk:") and pin in definition.source, row.name
        checked.add((row.channel, row.gateway))
    claimed = {("sms", g.name) for g in GATEWAYS.values() if g.source.startswith("sdk:")}
    claimed |= {("whatsapp", p.name) for p in PROVIDERS_BY_NAME.values() if p.source.startswith("sdk:")}
    assert claimed == checked
    assert len({row.name for row in ROWS}) == len(ROWS)
