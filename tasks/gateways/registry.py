"""The explicit registry of SMS gateways: one dict built from the definition lists, no scanning."""

from __future__ import annotations

from errors import ConfigurationError
from rq_ext import contract
from tasks.gateways import europe_americas, generic, india, india_more, regional, sns, worldwide
from tasks.gateways.smpp.gateway import GATEWAY as SMPP
from tasks.gateways.spec import Gateway

#: Every definition list, in the order docs/gateways.md shows them.
DEFINITIONS: list[Gateway] = [
    *india.GATEWAYS,
    *india_more.GATEWAYS,
    *worldwide.GATEWAYS,
    sns.GATEWAY,
    SMPP,
    *regional.GATEWAYS,
    *europe_americas.GATEWAYS,
    generic.GATEWAY,
]


def _index(definitions: list[Gateway]) -> dict[str, Gateway]:
    registry: dict[str, Gateway] = {}
    for gateway in definitions:
        if gateway.name in registry:
            raise ValueError(f"duplicate gateway name {gateway.name!r}")
        registry[gateway.name] = gateway
    return registry


GATEWAYS: dict[str, Gateway] = _index(DEFINITIONS)
contract.KNOWN_GATEWAYS.update(GATEWAYS)  # metric and log labels take only registered names


def get(name: str) -> Gateway:
    """The gateway registered as ``name``, or :class:`ConfigurationError`."""
    gateway = GATEWAYS.get(str(name).strip().lower())
    if gateway is None:
        raise ConfigurationError(f"unknown SMS gateway {name!r}")
    return gateway
