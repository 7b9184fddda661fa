"""SSRF guard: which addresses an outbound URL from job data (webhook, attachment, a payload's
gateway or provider URL, a callback) may reach.

A URL is checked once, before any request: only ``http``/``https``, the host is resolved
**once**, and *every* resolved address must be public. The caller then connects to the pinned
address (:mod:`wrappers.pinned`), so a second DNS answer cannot redirect the request
(DNS rebinding). Refused, unless inside one of ``WEBHOOK_ALLOWED_NETWORKS``:

- loopback, private (RFC 1918, ULA ``fc00::/7``), link-local, CGNAT ``100.64.0.0/10``;
- multicast, unspecified (``0.0.0.0``, ``::``), reserved;
- the cloud metadata addresses ``169.254.169.254`` and ``fd00:ec2::254``;
- IPv4-mapped (``::ffff:a.b.c.d``) and other IPv4-embedding IPv6 forms (6to4, NAT64, Teredo).

The cloud metadata addresses are refused whatever the allowed networks say. Callbacks
(:func:`check_callback_url`) have their own list, ``CALLBACK_ALLOWED_NETWORKS`` (loopback and
private ranges by default), and never reach a link-local address either.

Every refusal is a permanent :class:`~errors.DestinationRefused` (a ``ProviderRejected``)
naming the rule. ``docs/security.md`` says which URL passes which rule.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from config import get_settings
from errors import DestinationRefused, ProviderUnavailable
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
            return f"{'an' if name[0] in 'aeiou' else 'a'} {name} address"
    return None


#: Refused for callbacks even when inside CALLBACK_ALLOWED_NETWORKS.
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


@dataclass(frozen=True)
class Rule:
    """Which networks a kind of URL may reach beyond public addresses, and what stays refused."""

    setting: str
    link_local_refused: bool = False

    def allowed(self) -> list[Network]:
        return list(networks(tuple(getattr(get_settings(), self.setting))))


@lru_cache(maxsize=32)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of a setting's CIDR list (parsed once per distinct list)."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


#: Webhooks, attachments and every URL a payload names (gateways, WhatsApp providers).
JOB_DATA = Rule("WEBHOOK_ALLOWED_NETWORKS")
#: Success and failure callbacks.
CALLBACK = Rule("CALLBACK_ALLOWED_NETWORKS", link_local_refused=True)


def allowed_networks() -> list[Network]:
    return JOB_DATA.allowed()


def embedded(address: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address inside it (IPv4-mapped, 6to4, Teredo, NAT64)."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        found += [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
        found += [address.teredo[1]] if address.teredo else []
        if address in EMBEDDING_V4[0]:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def check_address(address: IPAddress, allowed: list[Network], rule: Rule = JOB_DATA) -> None:
    """Raise DestinationRefused unless ``address`` is public or inside an allowed network
    (never a metadata address, in any IPv6 disguise; for callbacks never a link-local one)."""
    if any(inner in METADATA for inner in embedded(address)):
        raise DestinationRefused(f"refused: {address} is a cloud metadata address (never allowed)")
    inside = [(a, n) for a in embedded(address) for n in LINK_LOCAL if a.version == n.version]
    if rule.link_local_refused and any(a in n for a, n in inside):
        raise DestinationRefused(f"refused: {address} is a link-local address (never allowed for {rule.setting})")
    if any(address.version == net.version and address in net for net in allowed):
        return
    reason = refusal(address)
    if reason:
        raise DestinationRefused(f"refused: {address} is {reason} (not in {rule.setting})")


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
        raise DestinationRefused(f"invalid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise DestinationRefused(f"refused: URL scheme {scheme[:20] or '(none)'!r} is not http or https")
    if not parts.hostname:
        raise DestinationRefused("refused: URL has no host")
    return scheme, parts.hostname, port or SCHEMES[scheme]


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, rule: Rule = JOB_DATA) -> Target:
    """Check ``url`` and pin it to one resolved address; every resolved address must pass.

    Raises DestinationRefused (permanent) before any connection is opened."""
    scheme, host, port = parse(url)
    return Target(url=url, scheme=scheme, host=host, port=port, address=check_host(host, port, rule))


def check_url_without_lookup(url: str, rule: Rule = JOB_DATA) -> Target | None:
    """:func:`check_url` when the host is an address (no name to look up), else None: an event
    loop then runs :func:`check_url` on a thread."""
    scheme, host, port = parse(url)
    if literal(host) is None:
        return None
    return Target(url=url, scheme=scheme, host=host, port=port, address=check_host(host, port, rule))


def check_host(host: str, port: int, rule: Rule = JOB_DATA) -> str:
    """Check a bare host from job data (an SMSC, which is no URL) as :func:`check_url` does: every
    resolved address must pass. The address to connect to (pinned), or DestinationRefused."""
    if literal(host) is not None:
        return _literal_verdict(host, rule, tuple(getattr(get_settings(), rule.setting)))
    addresses = resolve(host, port)
    if not addresses:
        raise ProviderUnavailable(f"host {mask_text(host)} resolved to no address")
    allowed = rule.allowed()
    for address in addresses:
        check_address(address, allowed, rule)
    return str(addresses[0])


@lru_cache(maxsize=1024)
def _literal_verdict(host: str, rule: Rule, cidrs: tuple[str, ...]) -> str:
    """The verdict on an address: it depends on nothing but the address, the rule and the
    allowed networks, so a passed one is kept (a refusal raises and is not kept)."""
    address = ipaddress.ip_address(host)
    check_address(address, list(networks(cidrs)), rule)
    return str(address)


def check_callback_url(url: str) -> Target:
    """Check a success/failure callback URL (``CALLBACK_ALLOWED_NETWORKS``; link-local and the
    metadata addresses never) and pin it; connect to ``Target.address`` (:mod:`wrappers.pinned`)."""
    return check_url(url, CALLBACK)
