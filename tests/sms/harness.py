"""A table row per gateway, and running one row against pytest-httpserver."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

from tasks.sms import send_sms

NUMBER = "+919876543210"
#: A second number, for answers about several numbers.
OTHER = "+919123456780"
TEXT = "Your report LAB-42 is ready"
HINDI = "आपकी रिपोर्ट तैयार है"
#: GSM-7 but for one typographic apostrophe (U+2019): UCS-2 as a whole.
APOSTROPHE = "Your report\u2019s ready"


@dataclass
class Case:
    """One gateway's documented request and answers."""

    gateway: str
    config: dict[str, Any]
    method: str
    path: str
    #: Exact fields: ``query`` (URL), ``form`` (urlencoded body) or ``json`` (JSON body).
    query: dict[str, str] | None = None
    form: dict[str, str] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    #: The provider's success answer (dict/list = JSON, str = text) and the id read from it.
    ok: Any = None
    ok_status: int = 200
    message_id: str = ""
    #: A 200 answer that reports an error, and the error class expected (None: the gateway has no such body).
    refusal: Any = None
    refusal_error: str = "ProviderRejected"
    #: The provider's own status or code in that answer, which the reason must carry.
    refusal_code: str = ""
    #: An answer that must be retried (status, body, error class), for providers that document one.
    retry: tuple[int, Any, str] | None = None
    #: The provider's answer for NUMBER and OTHER in one request when it accepts NUMBER (its id:
    #: ``mixed_id``) and refuses OTHER: (answer, error class of OTHER's refusal, its code), for a
    #: gateway that batches numbers and reports each one.
    mixed: tuple[Any, str, str] | None = None
    mixed_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)

    def task(self, base_url: str) -> dict[str, Any]:
        payload = {"task": 1, "gateway": self.gateway, "config": {**self.config, "base_url": base_url}}
        payload.update({"to": NUMBER, "message": TEXT})
        payload.update(self.payload)
        return {"payload": payload, "reference": f"ref-{self.gateway}"}


def textlocal_ok(*numbers: str, batch: int = 1) -> dict[str, Any]:
    """Textlocal's documented success answer for these E.164 numbers (every message id ``batch``)."""
    messages = [{"id": str(batch), "recipient": int(number.lstrip("+"))} for number in numbers]
    return {"status": "success", "batch_id": batch, "messages": messages}


def respond(httpserver: Any, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
    """Answer every request with ``body`` (JSON when not a string)."""
    text = body if isinstance(body, str) else json.dumps(body)
    kind = "text/plain" if isinstance(body, str) else "application/json"
    response = Response(text, status=status, content_type=kind, headers=headers or {})
    httpserver.expect_request(re.compile(".*")).respond_with_response(response)


def send(case: Case, httpserver: Any) -> dict[str, Any]:
    return send_sms(case.task(httpserver.url_for("/").rstrip("/")))


def only_request(httpserver: Any) -> Request:
    assert len(httpserver.log) == 1, [r.url for r, _ in httpserver.log]
    return httpserver.log[0][0]


def single(values: Any) -> dict[str, str]:
    return {k: values.getlist(k)[0] if len(values.getlist(k)) == 1 else values.getlist(k) for k in values}


def check_request(case: Case, request: Request) -> None:
    """Method, path, exact fields, headers and Basic credentials as the provider documents them."""
    assert request.method == case.method
    assert request.path == case.path
    assert single(request.args) == (case.query or {})
    if case.form is not None:
        assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert single(request.form) == case.form
    if case.json is not None:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.get_data()) == case.json
    if case.form is None and case.json is None:
        assert request.get_data() == b""
    for name, value in case.headers.items():
        assert request.headers.get(name) == value, name
    if case.basic:
        assert request.authorization is not None
        assert (request.authorization.username, request.authorization.password) == case.basic
    else:
        assert request.authorization is None or request.authorization.type != "basic"


@contextmanager
def blackhole() -> Iterator[str]:
    """A URL whose server accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
