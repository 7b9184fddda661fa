"""The ``http`` gateway: a vendor with no definition, configured entirely from its config.

Like ERPNext's SMS Settings: the URL, the method, the names of the message and receiver
parameters, static parameters, headers, the encoding and a success pattern::

    {"gateway": "http", "config": {
        "url": "https://sms.vendor.example/api/send", "method": "POST", "encoding": "form",
        "message_param": "text", "receiver_param": "mobiles", "sender_param": "sender",
        "static_params": {"user": "clinic", "password": "..."}, "headers": {"X-Key": "..."},
        "success_regex": "^OK (?P<id>\\\\w+)", "number_format": "plain"}}

Without ``success_regex`` any 2xx answer counts as accepted.
"""

from __future__ import annotations

from typing import Any

from errors import ConfigurationError
from rq_ext.sansio import Plan
from tasks.gateways import engine, numbers
from tasks.gateways.spec import E164, FORM, JSON, NATIONAL, PLAIN, QUERY, Gateway, Outbound, Sent, Success


def _escaped(value: Any) -> str:
    """A header value with its braces escaped for ``str.format_map``."""
    return str(value).replace("{", "{{").replace("}", "}}")


def _choice(config: dict[str, Any], key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = str(config.get(key) or default).lower()
    if value not in allowed:
        raise ConfigurationError(f"gateway 'http': {key} must be one of {', '.join(allowed)}")
    return value


def definition(config: dict[str, Any]) -> Gateway:
    """The declarative definition a user's ``http`` config describes."""
    url = config.get("base_url") or config.get("url")
    if not url:
        raise ConfigurationError("gateway 'http': missing config key(s): url")
    method = _choice(config, "method", "POST", ("get", "post")).upper()
    encoding = _choice(config, "encoding", QUERY if method == "GET" else FORM, (FORM, JSON, QUERY))
    static, headers = config.get("static_params") or {}, config.get("headers") or {}
    if not isinstance(static, dict) or not isinstance(headers, dict):
        raise ConfigurationError("gateway 'http': static_params and headers must be objects")
    unicode_param = config.get("unicode_param")
    return Gateway(
        name="http",
        title="Configured HTTP gateway",
        region="any",
        url=str(url),
        method=method,
        encoding=encoding,
        headers={str(k): _escaped(v) for k, v in headers.items()},
        static=dict(static),
        sender=config.get("sender_param"),
        to=str(config.get("receiver_param") or "to"),
        message=str(config.get("message_param") or "message"),
        number_format=_choice(config, "number_format", PLAIN, (E164, PLAIN, NATIONAL)),
        joiner=str(config.get("joiner") or ","),
        unicode=(str(unicode_param), None, str(config.get("unicode_value", "1"))) if unicode_param else None,
        success=Success(text=config.get("success_regex") or None),
    )


def send(gateway: Gateway, out: Outbound) -> Plan[Sent]:
    """Send through the definition built from the config (its ``url`` is the whole endpoint), as a
    plan; the answer is one verdict for every number of the request (a success pattern cannot say
    more)."""
    config = {k: v for k, v in out.config.items() if k != "base_url"}
    configured = definition(dict(out.config))
    written = tuple(numbers.write(n, configured.number_format) for n in out.numbers)  # they arrive in E.164
    sent = Outbound(written, out.text, out.sender, out.unicode, out.template_id, config, out.guard_url, out.reference)
    answer = yield from engine.send(configured, sent)
    by_written = dict(zip(written, out.numbers, strict=True))  # back to the E.164 numbers the engine sent
    return Sent(
        {by_written[n]: i for n, i in answer.accepted.items()}, {by_written[n]: r for n, r in answer.refused.items()}
    )


GATEWAY = Gateway(
    name="http",
    title="Configured HTTP gateway (like ERPNext SMS Settings)",
    region="any",
    url="{url}",
    required=("url",),
    sender="{sender_param}",
    to="{receiver_param}",
    message="{message_param}",
    number_format=E164,
    delegate=send,
    confidence="n/a (user-configured)",
    source="ERPNext SMS Settings",
)
