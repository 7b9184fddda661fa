"""Every host that comes from job data passes the network guard; hosts from settings stay trusted.

Tests stay on loopback: a refusal is asserted *without* connecting (the local server sees no
request, or no socket is opened at all); a reachable case allows 127.0.0.0/8 explicitly.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from errors import DestinationRefused, PermanentError
from rq_ext.classify import classify
from tasks.sms import send_sms
from tasks.whatsapp import send_whatsapp
from tests.sms.harness import textlocal_ok
from wrappers import ssrf

LOOPBACK = ["127.0.0.0/8", "::1/128"]
NUMBER, TEXT = "+919876543210", "Your report is ready"
METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",
]


def sms(config: dict[str, Any], gateway: str = "textlocal", **extra: Any) -> dict[str, Any]:
    return {"payload": {"task": 1, "gateway": gateway, "config": config, "to": NUMBER, "message": TEXT, **extra}}


def http_gateway(url: str) -> dict[str, Any]:
    return sms({"url": url, "message_param": "text", "receiver_param": "to"}, gateway="http")


def whatsapp(base_url: str) -> dict[str, Any]:
    config = {"phone_number_id": "1055", "access_token": "meta-token", "base_url": base_url}
    return {"payload": {"task": 5, "gateway": "meta", "config": config, "to": NUMBER, "text": TEXT}}


def sns(endpoint: str) -> dict[str, Any]:
    keys = {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "secret-key", "endpoint_url": endpoint}
    return sms(keys, gateway="aws_sns")


@pytest.fixture
def no_sockets(monkeypatch):
    """Fail the test if anything opens a connection."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a connection was opened to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


JOBS = {
    "sms base_url": lambda url: sms({"api_key": "k", "base_url": url}),
    "http gateway url": http_gateway,
    "http gateway base_url": lambda url: sms({"url": "http://127.0.0.1:9/", "base_url": url}, gateway="http"),
    "whatsapp base_url": whatsapp,
    "sns endpoint": sns,
}


def send(task: dict[str, Any]) -> Any:
    return send_whatsapp(task) if task["payload"]["task"] == 5 else send_sms(task)


@pytest.mark.parametrize("kind", JOBS)
def test_payload_loopback_host_refused_when_not_allowed(settings_factory, httpserver, kind):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    httpserver.expect_request("/").respond_with_data("ok")
    with pytest.raises(DestinationRefused, match="loopback") as info:
        send(JOBS[kind](httpserver.url_for("/")))
    assert "WEBHOOK_ALLOWED_NETWORKS" in str(info.value)
    assert isinstance(info.value, PermanentError) and not classify(info.value).retryable
    assert httpserver.log == []


@pytest.mark.parametrize("url", METADATA_URLS)
@pytest.mark.parametrize("kind", JOBS)
def test_metadata_refused_before_any_socket(settings_factory, no_sockets, kind, url):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=["169.254.0.0/16", "fd00::/8", "::ffff:0:0/96"])
    with pytest.raises(DestinationRefused, match=r"metadata|IPv4-mapped"):
        send(JOBS[kind](url))


@pytest.mark.parametrize("kind", JOBS)
def test_name_resolving_to_a_private_address_refused(settings_factory, monkeypatch, no_sockets, kind):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[Any]:
        looked_up.append(host)
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.5")]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    with pytest.raises(DestinationRefused, match=r"10\.0\.0\.5 is a private address"):
        send(JOBS[kind]("https://gw.tenant.example/api"))
    assert looked_up == ["gw.tenant.example"]


def test_request_goes_to_the_pinned_address_with_the_real_host(settings_factory, httpserver, monkeypatch):
    """Resolved once, checked, connected to the checked address; Host names the real host."""
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK)
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    httpserver.expect_request("/api/send").respond_with_data("OK id7")
    config = {"url": f"http://gw.tenant.example:{httpserver.port}/api/send", "success_regex": r"^OK (?P<id>\w+)"}
    result = send_sms(sms({**config, "message_param": "text", "receiver_param": "to"}, gateway="http"))
    assert result["provider_message_id"] == "id7"
    (request, _), *_ = httpserver.log
    assert request.headers["Host"] == f"gw.tenant.example:{httpserver.port}"


def test_allowed_loopback_reaches_the_local_gateway(settings_factory, httpserver):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK)
    httpserver.expect_request("/api/send").respond_with_data("OK ok1")
    task = http_gateway(httpserver.url_for("/api/send"))
    task["payload"]["config"]["success_regex"] = r"^OK (?P<id>\w+)"
    assert send_sms(task)["provider_message_id"] == "ok1"


def test_operator_account_url_stays_trusted(settings_factory, httpserver):
    """A host from SMS_ACCOUNTS is the operator's: not subject to the job-data networks."""
    account = {"gateway": "textlocal", "api_key": "acct-key", "base_url": httpserver.url_for("/tl")}
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[], SMS_ACCOUNTS={"lab": account})
    httpserver.expect_request("/tl/send/").respond_with_json(textlocal_ok(NUMBER))
    send_sms({"payload": {"task": 1, "account": "lab", "to": NUMBER, "message": TEXT}})
    assert len(httpserver.log) == 1


def test_payload_overriding_an_account_url_is_guarded(settings_factory, httpserver):
    account = {"gateway": "textlocal", "api_key": "acct-key", "base_url": "https://api.textlocal.in"}
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[], SMS_ACCOUNTS={"lab": account})
    payload = {"task": 1, "account": "lab", "config": {"base_url": httpserver.url_for("/")}, "to": NUMBER}
    with pytest.raises(DestinationRefused, match="loopback"):
        send_sms({"payload": {**payload, "message": TEXT}})
    assert httpserver.log == []


def test_operator_whatsapp_account_url_stays_trusted(settings_factory, httpserver):
    account = {"gateway": "meta", "phone_number_id": "1055", "access_token": "t", "base_url": httpserver.url_for("")}
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[], WHATSAPP_ACCOUNTS={"lab": account})
    httpserver.expect_request("/v21.0/1055/messages").respond_with_json({"messages": [{"id": "wamid.1"}]})
    send_whatsapp({"payload": {"task": 5, "account": "lab", "to": NUMBER, "text": TEXT}})
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://127.0.0.1/x"])
def test_only_http_schemes(settings, no_sockets, url):
    with pytest.raises(DestinationRefused, match="scheme"):
        send_sms(http_gateway(url))


def test_worker_fails_a_refused_job_permanently(conn, settings_factory, run_worker, httpserver):
    from rq.job import Job

    from rq_ext import enqueue

    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    httpserver.expect_request("/failed").respond_with_data("ok")
    job = enqueue("sms", "tasks.dispatch", http_gateway("http://127.0.0.1:9/"), connection=conn)
    conn.hset(job.key, "failed_task_handler", httpserver.url_for("/failed"))
    run_worker(["sms"])
    assert Job.fetch(job.id, connection=conn).get_status() == "failed"
    (request, _), *_ = [e for e in httpserver.log if e[0].path == "/failed"]
    assert "refused: 127.0.0.1 is a loopback address" in request.form["failure_trace"]


@pytest.mark.parametrize("url", [*METADATA_URLS, "http://10.0.0.8/report.pdf", "http://[fe80::1]/x"])
def test_attachment_urls_pass_the_same_guard(settings_factory, no_sockets, url):
    """E-mail attachment URLs (the only media the worker fetches itself) were already guarded."""
    from tasks.mail.attachments import from_url

    settings_factory(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK)
    with pytest.raises(DestinationRefused, match="refused"):
        from_url({"url": url}, "#1")
