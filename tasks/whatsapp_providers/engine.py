"""The engine of WhatsApp providers: build one request per number, send it, read the answer.

:func:`send` is a plan (:mod:`rq_ext.sansio`): it yields the :class:`wrappers.transport.Request`
and reads the :class:`~wrappers.transport.Answer` it gets back.
"""

from __future__ import annotations

from typing import Any

from config import get_settings
from errors import ConfigurationError, FusionError, InvalidPayload
from rq_ext.sansio import Plan
from tasks.gateways import outcome
from tasks.gateways.spec import FORM, JSON
from tasks.whatsapp_providers.spec import Provider, WhatsAppOut
from wrappers import transport
from wrappers.echoes import Secrets, guarding


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        raise ConfigurationError(f"config key {key!r} is missing")


def check(provider: Provider, config: dict[str, Any], kind: str, sender: str | None = None) -> None:
    """Required config present and the message kind supported, before any request."""
    present = {**config, "sender": sender} if sender else config
    missing = [key for key in provider.required if present.get(key) in (None, "")]
    if missing:
        raise ConfigurationError(f"whatsapp provider {provider.name!r}: missing config key(s): {', '.join(missing)}")
    if kind not in provider.kinds:
        raise InvalidPayload(f"whatsapp provider {provider.name!r} cannot send a {kind} message")


def secrets(out: WhatsAppOut) -> Secrets:
    """The number, the credentials, and the text (also any 8-character run of it)."""
    values = [out.number, *(str(v) for k, v in out.config.items() if k != "base_url")]
    return Secrets(values=values, texts=[out.message.body_text])


def send(provider: Provider, out: WhatsAppOut) -> Plan[str]:
    """Send one message to one number (a plan); the provider's message id."""
    values = _Values(out.config)
    values.update({key: value for key, value in provider.defaults.items() if values.get(key) in (None, "")})
    values.setdefault("to", out.number)
    base = str(out.config.get("base_url") or provider.url).rstrip("/")
    url = base + provider.path(out.message.kind).format_map(values)
    kwargs: dict[str, Any] = {"headers": {k: v.format_map(values) for k, v in provider.headers.items()}}
    if provider.basic:
        kwargs["auth"] = (str(values[provider.basic[0]]), str(out.config.get(provider.basic[1], "")))
    body = provider.build(provider, out)
    kwargs["json" if provider.encoding == JSON else "data" if provider.encoding == FORM else "params"] = body
    timeout = get_settings().PROVIDER_TIMEOUT
    with guarding(secrets(out)) as known:
        request = transport.encode("POST", url, provider.name, timeout, guarded=out.guard_url, **kwargs)
        try:
            answer = yield request
        except FusionError as exc:
            raise exc from None  # the chained transport error would carry the URL
        return outcome.read(provider.name, provider.success_for(out.message.kind), answer, known)
