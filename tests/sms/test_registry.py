"""Every definition is well formed: whatever a request needs from the config is a required key, so
a missing credential fails before any request with a clear reason."""

from __future__ import annotations

import string

import pytest

from tasks.gateways.registry import DEFINITIONS, GATEWAYS, get
from tasks.gateways.spec import E164, FORM, JSON, NATIONAL, PLAIN, QUERY, Gateway
from tasks.whatsapp_providers.registry import PROVIDERS
from tasks.whatsapp_providers.spec import Provider


def placeholders(*templates: str) -> set[str]:
    return {name for t in templates for _, name, _, _ in string.Formatter().parse(t) if name}


@pytest.mark.parametrize("gateway", DEFINITIONS, ids=lambda g: g.name)
def test_sms_definition(gateway: Gateway) -> None:
    assert gateway.name == gateway.name.lower() and " " not in gateway.name
    assert gateway.number_format in (E164, PLAIN, NATIONAL)
    assert gateway.encoding in (FORM, JSON, QUERY) and gateway.method in ("GET", "POST")
    assert gateway.region and gateway.title and gateway.confidence and gateway.source
    if gateway.transport is not None:
        return
    needed = placeholders(gateway.path, *gateway.headers.values()) - {"to"}
    needed |= set(gateway.credentials.values()) | ({gateway.basic[0]} if gateway.basic else set())
    needed |= placeholders(*gateway.optional_headers.values())
    known = set(gateway.required) | {key for keys in gateway.required_any for key in keys}
    assert needed <= known, needed - known
    assert placeholders(*gateway.optional_headers.values()) <= known - set(gateway.required)
    assert "{to}" not in gateway.path or not gateway.batches_numbers
    assert gateway.url or "base_url" in gateway.required


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_whatsapp_definition(provider: Provider) -> None:
    templates = [*provider.paths.values(), *provider.headers.values()]
    needed = placeholders(*templates) - {"to"} | ({provider.basic[0]} if provider.basic else set())
    assert needed <= set(provider.required) | set(provider.defaults)
    assert provider.url or "base_url" in provider.required
    assert all(provider.path(kind) for kind in provider.kinds)


def test_lookup_is_case_insensitive_and_explicit() -> None:
    assert get(" MSG91 ") is GATEWAYS["msg91"]
    assert len(GATEWAYS) == len(DEFINITIONS)
