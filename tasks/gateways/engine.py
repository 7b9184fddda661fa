"""The one engine that runs every declarative gateway: build the request, send it, read the answer.

:func:`send` is a plan (:mod:`rq_ext.sansio`): it yields the :class:`wrappers.transport.Request`
and reads the :class:`~wrappers.transport.Answer` it gets back; a gateway with its own blocking
``transport`` (SMPP, SNS) is a :class:`~rq_ext.sansio.Call`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any

from config import get_settings
from errors import ConfigurationError, FusionError
from rq_ext.sansio import Call, Plan
from tasks.gateways.recipients import read_all
from tasks.gateways.spec import FORM, JSON, QUERY, Gateway, Outbound, Sent
from wrappers import transport
from wrappers.echoes import Secrets, guarding


@dataclass(frozen=True)
class Request:
    """A built request, before it is sent (tests and the docs read it too)."""

    method: str
    url: str
    params: dict[str, Any]
    body: Any
    headers: dict[str, str]
    auth: tuple[str, str] | None


class _Config(dict[str, Any]):
    """Config values for ``str.format_map``: a missing key is a configuration error."""

    def __missing__(self, key: str) -> Any:
        raise ConfigurationError(f"config key {key!r} is missing")


def check_config(gateway: Gateway, config: Mapping[str, Any], sender: str | None = None) -> None:
    """Raise :class:`ConfigurationError` naming the required keys that are missing (a payload's
    ``sender`` stands for the config's)."""
    present = {**config, "sender": sender} if sender else config
    missing = [key for key in gateway.required if present.get(key) in (None, "")]
    if gateway.required_any and not any(has_all(config, keys) for keys in gateway.required_any):
        missing.append(" or ".join("+".join(keys) for keys in gateway.required_any))
    if missing:
        raise ConfigurationError(f"gateway {gateway.name!r}: missing config key(s): {', '.join(missing)}")


def has_all(config: Mapping[str, Any], keys: tuple[str, ...] | list[str]) -> bool:
    """True when every one of ``keys`` is set (not None, not empty)."""
    return all(config.get(key) not in (None, "") for key in keys)


def placeholders(template: str) -> list[str]:
    """The config keys a ``{key}`` template names."""
    return [name for _, name, _, _ in Formatter().parse(template) if name]


def recipients(gateway: Gateway, numbers: tuple[str, ...]) -> Any:
    """The recipient value: a JSON list or the numbers joined."""
    if gateway.to_list:
        return list(numbers)
    return (gateway.joiner or ",").join(numbers)


def flat_params(gateway: Gateway, out: Outbound) -> dict[str, Any]:
    """The parameters of a flat gateway, in a stable order."""
    config = out.config
    params: dict[str, Any] = dict(gateway.static)
    params.update({param: config[key] for param, key in gateway.credentials.items() if key in config})
    if gateway.sender and out.sender:
        params[gateway.sender] = out.sender
    params[gateway.to] = recipients(gateway, out.numbers)
    params[gateway.message] = out.text
    if gateway.dlt_entity and config.get("dlt_entity_id"):
        params[gateway.dlt_entity] = config["dlt_entity_id"]
    if gateway.dlt_template and out.template_id:
        params[gateway.dlt_template] = out.template_id
    if gateway.unicode:
        name, gsm, ucs2 = gateway.unicode
        value = ucs2 if out.unicode else gsm
        if value is not None:  # a string, number or JSON boolean: a form or query string writes it as text
            params[name] = value if gateway.encoding == JSON else wire(value)
    params.update({param: config[key] for param, key in gateway.options.items() if config.get(key) not in (None, "")})
    if gateway.reference and out.reference is not None:
        params[gateway.reference] = out.reference
    return params


def wire(value: Any) -> Any:
    """A flag value as a form or query string carries it (``true``, not Python's ``True``)."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def url_of(gateway: Gateway, out: Outbound) -> str:
    """Base URL (``base_url`` from the config wins) plus the path with its placeholders filled."""
    base = str(out.config.get("base_url") or gateway.url).rstrip("/")
    values = _Config(out.config)
    values.setdefault("to", out.numbers[0])
    return base + gateway.path.format_map(values)


def build(gateway: Gateway, out: Outbound) -> Request:
    """The request a gateway sends for ``out``."""
    check_config(gateway, out.config, out.sender)
    values = _Config(out.config)
    headers = {name: template.format_map(values) for name, template in gateway.headers.items()}
    headers.update(
        {
            name: template.format_map(values)
            for name, template in gateway.optional_headers.items()
            if has_all(out.config, placeholders(template))
        }
    )
    auth = (str(values[gateway.basic[0]]), str(out.config.get(gateway.basic[1], ""))) if gateway.basic else None
    payload: Any = gateway.body(gateway, out) if gateway.body else flat_params(gateway, out)
    params = payload if gateway.encoding == QUERY else {}
    body = None if gateway.encoding == QUERY else payload
    return Request(gateway.method, url_of(gateway, out), params, body, headers, auth)


def send(gateway: Gateway, out: Outbound) -> Plan[Sent]:
    """Send one request for ``out`` through ``gateway`` (a plan); what the provider said for each
    number (raises the classified error when it refused the request as a whole)."""
    if gateway.delegate is not None:
        check_config(gateway, out.config, out.sender)
        return (yield from gateway.delegate(gateway, out))
    if gateway.transport is not None:
        check_config(gateway, out.config, out.sender)
        answer = yield Call(gateway.transport, (gateway, out))
        return answer if isinstance(answer, Sent) else Sent.all(out.numbers, answer)
    built = build(gateway, out)
    kwargs: dict[str, Any] = {"params": built.params or None, "headers": built.headers, "auth": built.auth}
    if gateway.encoding == JSON:
        kwargs["json"] = built.body
    elif gateway.encoding == FORM:
        kwargs["data"] = built.body
    timeout = get_settings().PROVIDER_TIMEOUT
    with guarding(secrets(out)) as known:
        request = transport.encode(built.method, built.url, gateway.name, timeout, guarded=out.guard_url, **kwargs)
        try:
            answer = yield request
        except FusionError as exc:
            # Drop the chained transport exception: its text carries the URL, and a query string
            # can carry the credentials, the numbers and the message.
            raise exc from None
        return read_all(gateway.name, gateway.success, answer, out.numbers, known)


def secrets(out: Outbound) -> Secrets:
    """What must not come back in a reason or a log: the text (also any 8-character run of it),
    the numbers, the credentials."""
    values = [*out.numbers, *(str(v) for k, v in out.config.items() if k != "base_url")]
    return Secrets(values=values, texts=[out.text])
