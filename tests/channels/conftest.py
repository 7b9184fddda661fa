"""Fixtures for the channel tests: TLS material, fake DNS, HTTPS servers, moto, FCM and APNs fakes."""

from __future__ import annotations

import dataclasses
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from config import configure, get_settings
from tests.channels.aws_fake import FakeAWS
from tests.channels.certs import CA, make_ca


def use_endpoints(settings_base: dict[str, Any], **endpoints: str) -> None:
    """Point the provider endpoint settings at local servers, now and for later
    ``settings_factory`` calls of the test."""
    settings_base.update(endpoints)
    configure(dataclasses.replace(get_settings(), **endpoints))


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
    from wrappers import aws as mail_aws

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


@pytest.fixture(scope="session")
def fcm_service_account(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A generated RSA key pair for service accounts (the token_uri is filled per test)."""
    from tests.channels.push_fakes import service_account

    return service_account("http://127.0.0.1:1/token")


@pytest.fixture
def fcm(
    httpserver: HTTPServer, fcm_service_account: Any, settings_base: dict[str, Any], settings: Any
) -> Iterator[Any]:
    """FCM on ``httpserver``: /token (OAuth) and /v1/projects/<p>/messages:send, reached through
    the FCM_ENDPOINT and FCM_OAUTH_TOKEN_URI settings; yields (fake, config)."""
    from tasks.push import fcm as push_fcm
    from tasks.push import token_cache
    from tests.channels.push_fakes import GOOGLE_TOKEN_URI, PROJECT, FakeFCM

    fake = FakeFCM()
    httpserver.expect_request("/token", method="POST").respond_with_handler(fake.token)
    httpserver.expect_request(f"/v1/projects/{PROJECT}/messages:send", method="POST").respond_with_handler(fake.send)
    use_endpoints(
        settings_base,
        FCM_ENDPOINT=httpserver.url_for("/").rstrip("/"),
        FCM_OAUTH_TOKEN_URI=httpserver.url_for("/token"),
    )
    info, public_key = fcm_service_account
    info = dict(info, token_uri=GOOGLE_TOKEN_URI)  # as Google issues it: the setting decides
    fake.public_key = public_key  # type: ignore[attr-defined]
    push_fcm.reset_apps()
    token_cache.reset()
    yield fake, {"service_account": info, "project_id": PROJECT}
    push_fcm.reset_apps()
    token_cache.reset()


@pytest.fixture(scope="session")
def apns_servers(ca: CA, tls_dir: Path) -> Iterator[dict[str, Any]]:
    """Two fake APNs servers (HTTP/2, TLS by the test CA): ``token`` and ``cert`` (client cert required)."""
    from tests.channels.push_fakes import FakeAPNs, HypercornThread

    cert, key = ca.issue(tls_dir, "apns-server", ["127.0.0.1", "localhost"])
    token_app, cert_app = FakeAPNs(), FakeAPNs()
    token_server = HypercornThread(token_app, cert, key).start()
    cert_server = HypercornThread(cert_app, cert, key, client_ca=ca.path).start()
    yield {"token": (token_app, token_server), "cert": (cert_app, cert_server)}
    token_server.stop()
    cert_server.stop()


@pytest.fixture
def apns_env(ca: CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Trust the test CA (SSL_CERT_FILE) and start from empty client and JWT caches."""
    from tasks.push import apns, token_cache

    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))
    apns.reset_clients()
    token_cache.reset()
    yield
    apns.reset_clients()
    token_cache.reset()


@pytest.fixture
def apns_token(
    apns_servers: dict[str, Any], apns_env: None, tls_dir: Path, settings_base: dict[str, Any], settings: Any
) -> Any:
    """The token-auth fake APNs (APNS_ENDPOINT and APNS_SANDBOX_ENDPOINT); yields (fake,
    config, public key of the .p8)."""
    from tests.channels.certs import apns_key

    fake, server = apns_servers["token"]
    fake.answers.clear()
    fake.requests.clear()
    use_endpoints(settings_base, APNS_ENDPOINT=server.url, APNS_SANDBOX_ENDPOINT=server.url)
    key_path, public_key = apns_key(tls_dir)
    config = {"team_id": "TEAM123456", "key_id": "KEY1234567", "key": str(key_path), "topic": "com.lab.app"}
    return fake, config, public_key


@pytest.fixture
def apns_cert(
    apns_servers: dict[str, Any], apns_env: None, ca: CA, tls_dir: Path, settings_base: dict[str, Any], settings: Any
) -> Any:
    """The client-certificate fake APNs (sandbox: APNS_SANDBOX_ENDPOINT); yields (fake, config)
    with a .pem of cert + key."""
    fake, server = apns_servers["cert"]
    fake.answers.clear()
    fake.requests.clear()
    use_endpoints(settings_base, APNS_SANDBOX_ENDPOINT=server.url)
    cert, key = ca.issue(tls_dir, "apns-client", ["com.lab.app"], client=True)
    combined = tls_dir / "apns-client-combined.pem"
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    return fake, {"cert": str(combined), "topic": "com.lab.app", "sandbox": True}
