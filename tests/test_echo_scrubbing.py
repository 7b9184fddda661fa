"""A gateway that echoes the request back in an error (in every encoding providers use) leaks
nothing: not into the failure trace, the logs, Elasticsearch documents or Sentry events."""

from __future__ import annotations

import html
import io
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from werkzeug import Request, Response

import errors
from rq_ext import enqueue
from tasks.sms import send_sms
from tests.conftest import wait_for
from tests.test_observability import bulk_handler
from wrappers import sentry
from wrappers.echoes import Secrets, guarding
from wrappers.elastic import ElasticsearchHandler
from wrappers.logger import MaskingFilter, add_handler
from wrappers.masking import mask_text

TEXT = "patient Ravi report HbA1c 9.1 high"
HINDI = "रवि जी आपकी रिपोर्ट तैयार है"
NUMBER = "+919876543210"
DIGITS = ("9876543210", "98765 43210", "98765-43210", "987654")

#: How the gateway echoes the message text (and the number) in its error.
ECHOES: dict[str, Callable[[Request, str], str]] = {
    "raw query (+)": lambda request, text: request.query_string.decode(),
    "%20": lambda request, text: "message=" + quote(text),
    "json \\u escapes": lambda request, text: json.dumps({"error": "rejected", "message": text}),
    "html": lambda request, text: f"<p>Rejected: {html.escape(text)}</p>",
    "html numeric": lambda request, text: "Rejected " + text.encode("ascii", "xmlcharrefreplace").decode(),
    "upper case": lambda request, text: f"REJECTED: {text.upper()}",
    "a piece": lambda request, text: f"rejected near '{text[8:20]}'",
    "a piece, encoded": lambda request, text: f"near {quote_plus(text[5:17])}",
}
NUMBER_FORMS = [
    "+91 98765 43210",
    "098765-43210",
    "+91 (987) 654-3210",
    "91.98765.43210",
    "9876543210",
    "%2B919876543210",
]


def echo_handler(encode: Callable[[Request, str], str], text: str, number: str) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        return Response(f"ERR {encode(request, text)} to {number}", status=400, content_type="text/plain")

    return handle


def task(httpserver: Any, text: str) -> dict[str, Any]:
    config = {"url": httpserver.url_for("/send"), "method": "GET", "message_param": "message", "receiver_param": "to"}
    return {"payload": {"task": 1, "gateway": "http", "config": config, "to": NUMBER, "message": text}}


def leaked(output: str, text: str) -> list[str]:
    """What of the text or number is still readable in ``output`` (in any form)."""
    folded = output.lower()
    found = [d for d in DIGITS if d in output]
    words = [w for w in re.split(r"\s+", text) if len(w) >= 4 and w.lower() not in ("report",)]
    found += [w for w in words if w.lower() in folded or quote(w).lower() in folded]
    found += [w for w in words if json.dumps(w)[1:-1].lower() in folded]
    return found


@pytest.mark.parametrize("text", [TEXT, HINDI], ids=["latin", "devanagari"])
@pytest.mark.parametrize("echo", ECHOES)
def test_reason_holds_no_echo(httpserver, settings, echo, text):
    httpserver.expect_request("/send").respond_with_handler(echo_handler(ECHOES[echo], text, NUMBER))
    with pytest.raises(errors.ProviderRejected) as info:
        send_sms(task(httpserver, text))
    reason = str(info.value)
    assert reason.startswith("http: HTTP 400") and "***" in reason
    assert leaked(reason, text) == [], reason


@pytest.mark.parametrize("form", NUMBER_FORMS)
def test_number_in_any_format_is_masked(httpserver, settings, form):
    httpserver.expect_request("/send").respond_with_handler(echo_handler(lambda r, t: "bad", TEXT, form))
    with pytest.raises(errors.ProviderRejected) as info:
        send_sms(task(httpserver, TEXT))
    assert not any(d in str(info.value) for d in DIGITS), str(info.value)
    assert "3210" in str(info.value) or str(info.value).endswith("to %2B***")


@pytest.mark.parametrize(
    "text",
    [
        "call +91 98765 43210 today",
        "call 098765-43210",
        "call (415) 555-2671",
        "call +1 415.555.2671",
        "to=%2B919876543210&x=1",
        "to=91+98765+43210",
    ],
)
def test_mask_text_finds_formatted_numbers(settings, text):
    masked = mask_text(text)
    assert not re.search(r"\d{3}[ .\-)]*\d{3}[ .\-]*\d", masked.replace("*", "")[:-4] or "x"), masked
    assert masked.endswith(("3210 today", "3210", "2671", "3210&x=1"))


def test_ids_dates_and_amounts_are_kept(settings):
    text = (
        "job 1f267690-5646-4468-842d-eff436684f3f at 2026-11-29 19:11:33,812 on 29/11/2026 score 1764442221.5 HTTP 400"
    )
    assert mask_text(text) == text


def test_secrets_forms_and_runs():
    secrets = Secrets(values=["api-key-123456"], texts=[TEXT])
    for form in (TEXT, quote_plus(TEXT), quote(TEXT), TEXT.upper(), html.escape(TEXT), "report HbA1c"):
        assert "HbA1c" not in secrets.scrub(f"x {form} y").replace("***", "") or form == "report HbA1c"
    assert secrets.scrub("error near 'Ravi report' ok") == "error near '***' ok"
    assert secrets.scrub("key API-KEY-123456 refused") == "key *** refused"
    assert secrets.scrub("HTTP 400 Bad Request") == "HTTP 400 Bad Request"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.stream = io.StringIO()
        self.addFilter(MaskingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("werkzeug", "pytest_httpserver")):
            self.stream.write(self.format(record) + "\n")


def test_logs_while_sending_are_scrubbed(settings):
    handler = Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with guarding(Secrets(values=[NUMBER], texts=[HINDI])):
            logging.getLogger("tasks.x").warning("provider said: %s", quote_plus(HINDI[:12]))
            logging.getLogger("tasks.x").warning("provider said: %s", json.dumps(HINDI))
    finally:
        root.removeHandler(handler)
    output = handler.stream.getvalue()
    assert "provider said: ***" in output and "%E0" not in output.upper() and "\\u" not in output


def test_sentry_event_is_scrubbed_while_sending(settings):
    with guarding(Secrets(texts=[TEXT])):
        event = sentry.scrub({"message": f"echo: {quote_plus(TEXT)}", "breadcrumbs": {"values": []}}, {})
    assert event is not None and "Ravi" not in json.dumps(event)


def test_worker_run_leaks_nothing(conn, settings, run_worker, httpserver):
    """The failure trace, the log stream and the Elasticsearch documents of a failed send."""
    text = TEXT
    httpserver.expect_request("/send").respond_with_handler(
        echo_handler(ECHOES["raw query (+)"], text, "+91 98765 43210")
    )
    httpserver.expect_request("/failed").respond_with_data("ok")
    received: list[Any] = []
    httpserver.expect_request("/_bulk").respond_with_handler(bulk_handler(received))
    logs = Collect()
    elastic = add_handler(ElasticsearchHandler(httpserver.url_for("/").rstrip("/"), interval=0.1))
    root = logging.getLogger()
    root.addHandler(logs)
    try:
        job = enqueue("sms", "tasks.dispatch", task(httpserver, text), connection=conn)
        conn.hset(job.key, "failed_task_handler", httpserver.url_for("/failed"))
        run_worker(["sms"])
        wait_for(lambda: elastic.shipped >= 1, timeout=10)
    finally:
        root.removeHandler(logs)
        root.removeHandler(elastic)
        elastic.close()
    trace = [r.form["failure_trace"] for r, _ in httpserver.log if r.path == "/failed"]
    assert trace and "HTTP 400" in trace[0]
    stored = (conn.hget(job.key, "exc_info") or b"").decode("utf-8", "replace")
    for output in (trace[0], logs.stream.getvalue(), json.dumps(received, ensure_ascii=False), stored):
        assert leaked(output, text) == [], output


def test_forms_of_values_no_encoding_changes_and_of_ascii_control_characters() -> None:
    """The quick paths of ``forms``: a value of URL-unreserved characters only comes back as
    itself; ASCII DEL is escaped by JSON (``\\u007f``) as a non-ASCII character is."""
    from wrappers.echoes import forms

    assert forms("Ab9_.~-x") == frozenset({"Ab9_.~-x"})
    assert forms("") == frozenset()
    assert "\\u007f1234" in forms("\x7f1234")
    assert {"a&amp;b c", "a%26b+c", "a%26b%20c"} <= forms("a&b c")
    assert "&#x930;&#x935;" in forms("रव") and "\\u0930\\u0935" in forms("रव")
