"""Fixtures for the channel tests: TLS material, fake DNS, HTTPS servers, moto, FCM and APNs fakes."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.channels.aws_fake import FakeAWS
from tests.channels.certs import CA, make_ca


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="session")
def ca(tls_dir: Path) -> CA:
    return make_ca(tls_dir)


class FakeDNS:
    """Replaces the SSRF guard's resolver: ``dns["hooks.test"] = ["127.0.0.1"]``; counts lookups."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __setitem__(self, host: str, addresses: list[str]) -> None:
        self.records[host] = addresses

    def resolve(self, host: str, port: int) -> list[Any]:
        self.lookups.append(host)
        return [ipaddress.ip_address(a) for a in self.records[host]]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr("wrappers.ssrf.resolve", fake.resolve)
    return fake


@pytest.fixture
def https_server(ca: CA, tls_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], HTTPServer]]:
    """Start an HTTPS pytest-httpserver whose certificate names ``hostname``; the CA is trusted."""
    servers: list[HTTPServer] = []
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.path))

    def start(hostname: str) -> HTTPServer:
        cert, key = ca.issue(tls_dir, f"srv-{hostname}", [hostname])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ap-south-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAWS]:
    """Fake credentials and ``AWS_ENDPOINT_URL`` pointing at moto; state reset, sender domain verified."""
    from tasks.mail import aws as mail_aws

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    mail_aws.reset_clients()
    fake = FakeAWS(moto_endpoint)
    fake.reset()
    fake.verify_domain()
    yield fake
    mail_aws.reset_clients()
