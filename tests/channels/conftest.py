"""Fixtures for the channel tests: TLS material, fake DNS, HTTPS servers, moto, FCM and APNs fakes."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

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
