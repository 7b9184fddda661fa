"""SSRF guard: which addresses an outbound URL (webhook, attachment) may reach.

A URL is checked once, before any request: only ``http``/``https``, the host is resolved
**once**, and *every* resolved address must be public. The caller then connects to the pinned
address (:mod:`wrappers.pinned`), so a second DNS answer cannot redirect the request
(DNS rebinding). Refused, unless inside one of ``WEBHOOK_ALLOWED_NETWORKS``:

- loopback, private (RFC 1918, ULA ``fc00::/7``), link-local, CGNAT ``100.64.0.0/10``;
- multicast, unspecified (``0.0.0.0``, ``::``), reserved;
- the cloud metadata addresses ``169.254.169.254`` and ``fd00:ec2::254``;
- IPv4-mapped (``::ffff:a.b.c.d``) and other IPv4-embedding IPv6 forms (6to4, NAT64, Teredo).

Every refusal is a permanent :class:`~errors.ProviderRejected` naming the rule.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from config import get_settings
from errors import ProviderRejected, ProviderUnavailable
from wrappers.masking import mask_text

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = {"http": 80, "https": 443}
METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
CGNAT = ipaddress.ip_network("100.64.0.0/10")
#: IPv6 prefixes that carry an IPv4 address inside them.
EMBEDDING_V4 = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2002::/16"),
    ipaddress.ip_network("2001::/32"),
)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and who to talk to (``host``, for Host/SNI)."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def is_ip_literal(self) -> bool:
        return literal(self.host) is not None


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached (ignoring the allowed networks), or None."""
    if address in METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if any(address in net for net in EMBEDDING_V4):
            return "an IPv6 address embedding IPv4 (6to4/NAT64/Teredo)"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("carrier-grade NAT (100.64.0.0/10)", address in CGNAT),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    return None


def allowed_networks() -> list[Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in get_settings().WEBHOOK_ALLOWED_NETWORKS]


def check_address(address: IPAddress, allowed: list[Network]) -> None:
    """Raise ProviderRejected unless ``address`` is public or inside an allowed network."""
    if any(address.version == net.version and address in net for net in allowed):
        return
    reason = refusal(address)
    if reason:
        raise ProviderRejected(f"refused: {address} is {reason} (not in WEBHOOK_ALLOWED_NETWORKS)")


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (one DNS lookup). Tests monkeypatch this."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProviderUnavailable(f"cannot resolve host {mask_text(host)} ({exc.strerror})") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def parse(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL; anything else is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ProviderRejected(f"invalid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ProviderRejected(f"refused: URL scheme {scheme or '(none)'!r} is not http or https")
    if not parts.hostname:
        raise ProviderRejected("refused: URL has no host")
    return scheme, parts.hostname, port or SCHEMES[scheme]


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str) -> Target:
    """Check ``url`` and pin it to one resolved address; every resolved address must pass."""
    scheme, host, port = parse(url)
    found = literal(host)
    addresses = [found] if found is not None else resolve(host, port)
    if not addresses:
        raise ProviderUnavailable(f"host {mask_text(host)} resolved to no address")
    allowed = allowed_networks()
    for address in addresses:
        check_address(address, allowed)
    return Target(url=url, scheme=scheme, host=host, port=port, address=str(addresses[0]))
