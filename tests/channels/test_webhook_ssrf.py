"""Webhook hardening: the SSRF guard, address pinning, TLS for the real hostname, size caps.

Every test runs twice: on the threaded transport (urllib3, ``send_webhook``) and on the event-loop
transport (aiohttp, the webhook's plan driven as the async worker class drives it).
"""

from __future__ import annotations

import ipaddress
import sys

import pytest
from werkzeug import Response

from errors import InvalidPayload, ProviderRejected, ProviderUnavailable, RateLimited
from rq_ext.classify import classify
from tasks.webhooks import plan_webhook, send_webhook
from tests.loop_transport import run_on_loop
from wrappers import ssrf

OPEN = r"^https?://"


@pytest.fixture(params=["threaded", "event-loop", "event-loop-aiohttp"], autouse=True)
def transport(request, monkeypatch):
    """``send_webhook`` of these tests: the job function, or its plan on an event loop (through
    the loop's own HTTP client, or aiohttp)."""
    if request.param.startswith("event-loop"):
        client = "aiohttp" if request.param.endswith("aiohttp") else "native"
        sender = lambda t: run_on_loop(plan_webhook(t, None), http=client)  # noqa: E731
        monkeypatch.setattr(sys.modules[__name__], "send_webhook", sender)
    return request.param


def task(url: str, **extra) -> dict:
    return {"payload": {"task": 4, "url": url, **extra}}


@pytest.mark.parametrize(
    "address, rule",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("2002:7f00:1::", "embedding IPv4"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_refused_addresses(settings_factory, address, rule):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    with pytest.raises(ProviderRejected, match=rule) as info:
        ssrf.check_address(ipaddress.ip_address(address), ssrf.allowed_networks())
    assert not classify(info.value).retryable


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(settings_factory, address):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    ssrf.check_address(ipaddress.ip_address(address), [])


def test_allowed_networks_open_a_private_range(settings_factory):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=["10.0.0.0/8"])
    ssrf.check_address(ipaddress.ip_address("10.9.9.9"), ssrf.allowed_networks())
    with pytest.raises(ProviderRejected):
        ssrf.check_address(ipaddress.ip_address("192.168.0.1"), ssrf.allowed_networks())


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "//x/y"])
def test_only_http_and_https(settings_factory, url):
    settings_factory(WEBHOOK_WHITELIST=".*")
    with pytest.raises(ProviderRejected, match="scheme"):
        send_webhook(task(url))


def test_loopback_server_refused_by_default(settings_factory, httpserver):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    httpserver.expect_request("/h").respond_with_data("ok")
    with pytest.raises(ProviderRejected, match="loopback") as info:
        send_webhook(task(httpserver.url_for("/h")))
    assert not classify(info.value).retryable
    assert httpserver.log == []


def test_localhost_name_resolving_to_loopback_is_refused(settings_factory, httpserver):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    httpserver.expect_request("/h").respond_with_data("ok")
    with pytest.raises(ProviderRejected, match="refused"):
        send_webhook(task(f"http://localhost:{httpserver.port}/h"))
    assert httpserver.log == []


def test_hostname_resolving_to_private_address_is_refused(settings_factory, dns, httpserver):
    settings_factory(WEBHOOK_WHITELIST=OPEN, WEBHOOK_ALLOWED_NETWORKS=[])
    dns["hooks.example.com"] = ["10.20.30.40"]
    with pytest.raises(ProviderRejected, match=r"10\.20\.30\.40 is a private address"):
        send_webhook(task("http://hooks.example.com/h"))


def test_every_resolved_address_is_checked(settings_factory, dns):
    settings_factory(WEBHOOK_WHITELIST=OPEN, WEBHOOK_ALLOWED_NETWORKS=[])
    dns["mixed.example.com"] = ["93.184.216.34", "169.254.169.254"]
    with pytest.raises(ProviderRejected, match="metadata"):
        send_webhook(task("http://mixed.example.com/h"))


def test_unresolvable_host_is_retryable(settings_factory, monkeypatch):
    settings_factory(WEBHOOK_WHITELIST=OPEN)
    with pytest.raises(ProviderUnavailable, match="resolve"):
        send_webhook(task("http://does-not-exist.invalid/h"))


def test_connection_goes_to_the_pinned_address(settings_factory, dns, httpserver):
    """Resolved once; the request reaches the pinned IP with the real Host header."""
    settings_factory(WEBHOOK_WHITELIST=OPEN)
    dns["hooks.test"] = ["127.0.0.1"]
    httpserver.expect_request("/h", method="POST").respond_with_data("ok")
    result = send_webhook(task(f"http://hooks.test:{httpserver.port}/h", json={"a": 1}))
    assert result["status_code"] == 200
    (request,) = [r for r, _ in httpserver.log]
    assert request.headers["Host"] == f"hooks.test:{httpserver.port}"
    assert dns.lookups == ["hooks.test"]


def test_tls_uses_sni_and_verifies_the_real_hostname(settings_factory, dns, https_server):
    settings_factory(WEBHOOK_WHITELIST=OPEN)
    dns["hooks.test"] = ["127.0.0.1"]
    server = https_server("hooks.test")
    server.expect_request("/tls").respond_with_data("ok")
    assert send_webhook(task(f"https://hooks.test:{server.port}/tls", json={}))["status_code"] == 200
    assert server.log[0][0].headers["Host"] == f"hooks.test:{server.port}"


def test_tls_certificate_for_another_name_is_refused(settings_factory, dns, https_server):
    settings_factory(WEBHOOK_WHITELIST=OPEN)
    dns["hooks.test"] = ["127.0.0.1"]
    server = https_server("someone-else.test")
    server.expect_request("/tls").respond_with_data("ok")
    with pytest.raises(ProviderRejected, match="certificate"):
        send_webhook(task(f"https://hooks.test:{server.port}/tls"))
    assert server.log == []


def test_redirect_to_metadata_address_is_a_failure(settings_factory, httpserver):
    settings_factory()
    location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    httpserver.expect_request("/r").respond_with_response(Response("", status=302, headers={"Location": location}))
    with pytest.raises(ProviderRejected, match="redirect") as info:
        send_webhook(task(httpserver.url_for("/r")))
    assert not classify(info.value).retryable
    assert [r.path for r, _ in httpserver.log] == ["/r"]


def test_request_body_over_the_cap_is_refused(settings_factory, httpserver):
    settings_factory(WEBHOOK_MAX_BODY_BYTES=100)
    with pytest.raises(InvalidPayload, match="WEBHOOK_MAX_BODY_BYTES") as info:
        send_webhook(task(httpserver.url_for("/h"), body="x" * 101))
    assert not classify(info.value).retryable
    assert httpserver.log == []


def test_response_body_is_read_up_to_the_cap(settings_factory, httpserver):
    settings_factory(WEBHOOK_MAX_RESPONSE_BYTES=1000)
    httpserver.expect_request("/big").respond_with_data("y" * 5_000_000)
    result = send_webhook(task(httpserver.url_for("/big")))
    assert result["status_code"] == 200
    assert result["response_truncated"] == "true"


def test_gone_is_permanent(settings, httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    with pytest.raises(ProviderRejected, match="410") as info:
        send_webhook(task(httpserver.url_for("/gone")))
    assert not classify(info.value).retryable


@pytest.mark.parametrize("status, error", [(503, ProviderUnavailable), (429, RateLimited)])
def test_retry_after_is_carried(settings, httpserver, status, error):
    httpserver.expect_request("/busy").respond_with_response(Response("", status=status, headers={"Retry-After": "7"}))
    with pytest.raises(error) as info:
        send_webhook(task(httpserver.url_for("/busy")))
    failure = classify(info.value)
    assert failure.retryable and failure.retry_after == 7


def test_ipv6_pinned_address(settings_factory, dns):
    from pytest_httpserver import HTTPServer

    settings_factory(WEBHOOK_WHITELIST=OPEN)
    dns["v6.test"] = ["::1"]
    server = HTTPServer(host="::1", port=0)
    try:
        server.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        server.expect_request("/six").respond_with_data("ok")
        assert send_webhook(task(f"http://v6.test:{server.port}/six"))["status_code"] == 200
        assert server.log[0][0].headers["Host"] == f"v6.test:{server.port}"
    finally:
        server.stop()


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.1", "127.1", "[::ffff:127.0.0.1]", "[::]"])
def test_obfuscated_loopback_forms_are_refused(settings_factory, httpserver, host):
    """Numeric forms the resolver turns into loopback are caught after resolution."""
    settings_factory(WEBHOOK_WHITELIST=OPEN, WEBHOOK_ALLOWED_NETWORKS=[])
    with pytest.raises(ProviderRejected, match="refused"):
        send_webhook(task(f"http://{host}:{httpserver.port}/h"))
    assert httpserver.log == []


def test_pinned_module_checks_every_request_itself(settings_factory, httpserver):
    """The pinned module has no unchecked way out: its own ``request`` runs the guard."""
    from wrappers import pinned

    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    httpserver.expect_request("/h").respond_with_data("ok")
    with pytest.raises(ProviderRejected, match="refused"):
        pinned.request("GET", httpserver.url_for("/h"), what="test", timeout=2)
    assert httpserver.log == [] and not hasattr(pinned, "session")


def test_header_with_line_break_is_invalid(settings, httpserver):
    with pytest.raises(InvalidPayload, match="InvalidHeader"):
        send_webhook(task(httpserver.url_for("/h"), headers={"X-Evil": "a\r\nHost: other"}))
    assert httpserver.log == []


def test_url_path_and_query_are_not_logged(settings, httpserver, caplog):
    caplog.set_level("INFO")
    path = "/services/T000/B000/XXXXSECRETPATH"
    httpserver.expect_request(path).respond_with_data("ok")
    send_webhook(task(httpserver.url_for(path) + "?sig=QUERYSECRET"))
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "webhook delivered" in ours
    assert "XXXXSECRETPATH" not in ours and "QUERYSECRET" not in ours
