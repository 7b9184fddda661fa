"""The guard's rules: callbacks have their own networks; metadata and (for callbacks) link-local
addresses are refused whatever the allowed lists say. Decisions only: no packet is sent."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from errors import DestinationRefused
from wrappers import ssrf

ALL_V4_V6 = ["0.0.0.0/0", "::/0"]


@pytest.fixture(autouse=True)
def no_lookups(monkeypatch):
    """Names resolve to fixed answers (no DNS query leaves the machine)."""
    answers = {"platform.internal": "10.1.2.3", "server.example": "93.184.216.34", "local.test": "127.0.0.1"}

    def resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address(answers[host])]

    monkeypatch.setattr(ssrf, "resolve", resolve)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/successTask/",
        "http://[::1]:8000/failedTask/",
        "http://10.0.0.7/successTask/",
        "http://172.20.0.5/x",
        "http://192.168.1.10/x",
        "http://[fd12::5]/x",
        "https://platform.internal/successTask/",
        "https://server.example/successTask/",
    ],
)
def test_callback_defaults_allow_loopback_private_and_public(settings, url):
    target = ssrf.check_callback_url(url)
    assert target.address and target.url == url


@pytest.mark.parametrize(
    "url, rule",
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
        ("http://[2002:a9fe:a9fe::1]/", "metadata"),
        ("http://169.254.10.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:169.254.10.1]/", "link-local"),
    ],
)
def test_callback_never_reaches_metadata_or_link_local(settings_factory, url, rule):
    settings_factory(CALLBACK_ALLOWED_NETWORKS=ALL_V4_V6 + ["169.254.0.0/16", "fe80::/10", "::ffff:0:0/96"])
    with pytest.raises(DestinationRefused, match=rule):
        ssrf.check_callback_url(url)


def test_callback_networks_are_their_own(settings_factory):
    """CALLBACK_ALLOWED_NETWORKS, not WEBHOOK_ALLOWED_NETWORKS, decides for callbacks."""
    settings_factory(CALLBACK_ALLOWED_NETWORKS=["10.0.0.0/8"], WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"])
    with pytest.raises(DestinationRefused, match=r"loopback address \(not in CALLBACK_ALLOWED_NETWORKS\)"):
        ssrf.check_callback_url("http://local.test:8000/successTask/")
    ssrf.check_callback_url("http://platform.internal/successTask/")
    ssrf.check_url("http://local.test:8000/hook")  # the job-data rule still allows it
    with pytest.raises(DestinationRefused, match="WEBHOOK_ALLOWED_NETWORKS"):
        ssrf.check_url("http://platform.internal/hook")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd", "http:///nohost"])
def test_callback_scheme_and_host(settings, url):
    with pytest.raises(DestinationRefused):
        ssrf.check_callback_url(url)


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_metadata_refused_for_job_data_even_when_allowed(settings_factory, address):
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=ALL_V4_V6 + ["169.254.0.0/16", "fd00::/8", "::ffff:0:0/96"])
    with pytest.raises(DestinationRefused, match="metadata"):
        ssrf.check_address(ipaddress.ip_address(address), ssrf.allowed_networks())


def test_bad_callback_network_setting(settings_factory):
    from config import ConfigError

    with pytest.raises(ConfigError, match="CALLBACK_ALLOWED_NETWORKS"):
        settings_factory(CALLBACK_ALLOWED_NETWORKS=["not-a-network"])


@pytest.mark.parametrize(
    "address, reason",
    [
        ("169.254.169.254", "a cloud metadata address"),
        ("::ffff:8.8.8.8", "an IPv4-mapped IPv6 address"),
        ("2002:808:808::1", "an IPv6 address embedding IPv4 (6to4/NAT64/Teredo)"),
        ("0.0.0.0", "an unspecified address"),
        ("127.0.0.1", "a loopback address"),
        ("169.254.10.1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("100.64.0.1", "a carrier-grade NAT (100.64.0.0/10) address"),
        ("240.0.0.1", "a reserved address"),
        ("10.0.0.1", "a private address"),
        ("93.184.216.34", None),
    ],
)
def test_each_refusal_names_its_rule(address: str, reason: str | None) -> None:
    """The reason of a refusal is what the failed job shows; each rule has its own words."""
    assert ssrf.refusal(ipaddress.ip_address(address)) == reason
