"""``wrappers.transport.prepare`` builds exactly what ``requests`` would: its shortcut for plain
URLs is checked against ``requests.Request(...).prepare()`` on generated URLs, bodies and headers."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from wrappers.transport import PLAIN_URL, encode, prepare

HOSTS = st.sampled_from(["api.gw.example", "127.0.0.1", "sms-gw.example.in", "a.b", "Upper.example", ".bad", "x"])
PORTS = st.sampled_from(["", ":80", ":8443", ":65535", ":65536", ":99999", ":0", ":080"])
PATH_CHARS = "abcXYZ019._~/=&,:+-?%;@#!* é."
PLAIN_CHARS = "abcXYZ019._~/=&,:+-?"  # mostly the shortcut's own
PATHS = st.text(alphabet=PATH_CHARS, max_size=30).map(lambda text: "/" + text) | st.just("")
PATHS = PATHS | st.text(alphabet=PLAIN_CHARS, max_size=30).map(lambda text: "/" + text)
URLS = st.builds(lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
                 st.sampled_from(["http", "https"]), HOSTS, PORTS, PATHS)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
FORM = st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=8) | st.lists(st.text(max_size=4), max_size=2),
                       min_size=1, max_size=3)  # fmt: skip
HEADERS = st.dictionaries(st.sampled_from(["Authorization", "X-Api-Key", "content-type", "Accept"]),
                          st.text(alphabet="abc XYZ/=+-;", min_size=1, max_size=12), max_size=3)  # fmt: skip


def as_sent(prepared: requests.PreparedRequest) -> tuple[Any, ...]:
    return prepared.method, prepared.url, list(prepared.headers.items()), prepared.body


def both(method: str, url: str, options: dict[str, Any]) -> tuple[Any, Any]:
    """(ours, requests'): each a prepared request's parts, or the error's class."""
    results = []
    for build in (lambda: prepare(method, url, options), lambda: requests.Request(method, url, **options).prepare()):
        try:
            results.append(as_sent(build()))
        except Exception as exc:
            results.append(type(exc))
    return results[0], results[1]


@settings(max_examples=400, deadline=None)
@given(method=st.sampled_from(["POST", "get", "PUT"]), url=URLS, body=st.one_of(
    st.builds(lambda j: {"json": j}, JSON), st.builds(lambda d: {"data": d}, FORM), st.just({})), headers=HEADERS)  # fmt: skip
def test_prepare_is_requests_prepare(method: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    options = {**body, **({"headers": headers} if headers else {})}
    ours, theirs = both(method, url, options)
    assert ours == theirs


def test_the_shortcut_is_taken_for_gateway_urls() -> None:
    for url in ("https://us.sms.api.sinch.com/xms/v1/PLAN1/batches", "http://127.0.0.1:8080/sms?x=1&y=2"):
        assert PLAIN_URL.fullmatch(url)
    for url in ("https://user:pw@host/x", "https://host/a/../b", "https://host/%41", "https://HOST/x"):
        assert not PLAIN_URL.fullmatch(url) or "/." in url


def test_encode_keeps_requests_encoding() -> None:
    request = encode("post", "https://gw.example/send", "gw", 5, json={"to": "+15550001", "text": "é"})
    assert request.url == "https://gw.example/send" and request.method == "post"
    assert request.body == b'{"to": "+15550001", "text": "\\u00e9"}'
    assert request.headers == {"Content-Length": "37", "Content-Type": "application/json"}
