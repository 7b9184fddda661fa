"""Print docs/gateways.md from the registries: ``python -m tasks.gateways.doc > docs/gateways.md``."""

from __future__ import annotations

import json

from tasks.gateways.registry import DEFINITIONS
from tasks.gateways.spec import Flag, Gateway, Success
from tasks.whatsapp_providers.registry import PROVIDERS
from tasks.whatsapp_providers.spec import Provider

NONE = "-"
FORMATS = {"e164": "E.164 `+919876543210`", "plain": "no plus `919876543210`", "national": "national `9876543210`"}
HEADER = """# SMS gateways and WhatsApp providers

Generated from the registries by `python -m tasks.gateways.doc > docs/gateways.md`; do not edit by
hand. Every gateway also accepts `base_url` (regional host, tests), `sender` (default sender id),
`template_id` (default DLT template id), `dlt_entity_id` (DLT principal entity id, where the gateway
has such a field) and `rate_limit` (messages per second for the account). Confidence: **H** request
and success check seen in public code, or compared with the provider's official SDK or with the
description it publishes (see the last two sections); **M** provider docs or several consistent
samples; **L** verify against the provider's current docs before relying on it. See docs/sms.md for
the payload.
"""
SDK_HEADER = """## Verified against the providers' official SDKs

`tests/sdk` sends one message with each provider's official Python SDK (pinned in
`requirements-sdk*.txt`, installed by `make sdk-env`, a prerequisite of `make test`, into venvs of
their own: `.venv-sdk`, and `.venv-sdk-infobip` for Infobip's, which needs pydantic 1) and the same
message through the definition, both to a recording server on 127.0.0.1, and compares
the two requests: method, path, query, content type, the auth scheme and where each credential goes,
the recipient, sender and text fields and the number format, the Unicode flag and the DLT fields
(GSM-7 text, Hindi text, and DLT ids where the SDK has them). It then replays the provider's
documented success and error answers to both: the same message id, and the classified error. What
each comparison ignores, what differed and what was changed is in `tests/sdk/rows.py`. Definitions
verified this way (their source starts with `sdk:`):
"""
DOCS_HEADER = """## Verified against the providers' published descriptions

Providers without an official Python SDK were compared with what they publish themselves: an API
reference page with a sample request and answer, a Postman collection or OpenAPI description, or
their official client in another language on their own GitHub organisation. The source names the
page or the repository, path and commit, and when it was seen; the row in `tests/sms/cases_*.py`
states the documented request (method, path, auth, fields, number format, Unicode flag) and the
documented success and error answers. Where only part could be verified, the confidence says which
(`H (request) / M (answers)`). Definitions verified this way (their source starts with `docs:`,
`openapi:` or `provider repo:`):
"""
#: Source prefixes of the definitions compared with an official SDK, and with a published description.
SDK_PREFIXES = ("sdk:",)
DOCS_PREFIXES = ("docs:", "openapi:", "provider repo:")


#: How the gateways that are not declarative HTTP authenticate, and what "accepted" means for them.
TRANSPORT_AUTH = {"aws_sns": "SDK (AWS SigV4)", "smpp": "bind_transceiver `system_id`/`password`"}
TRANSPORT_ENCODING = {"smpp": "SMPP 3.4 PDUs"}
TRANSPORT_SUCCESS = {
    "aws_sns": "boto3 `MessageId`",
    "http": "pattern from config",
    "smpp": "`submit_sm_resp` with command_status 0; its `message_id` (parts: `id1;id2`)",
}


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def auth_of(gateway: Gateway | Provider) -> str:
    parts = []
    if gateway.basic:
        parts.append(f"Basic `{gateway.basic[0]}:{gateway.basic[1]}`")
    parts += [f"header `{name}: {value}`" for name, value in gateway.headers.items()]
    if isinstance(gateway, Gateway):
        parts += [f"header `{name}: {value}` (when set)" for name, value in gateway.optional_headers.items()]
        parts += [f"param `{param}`=`{key}`" for param, key in gateway.credentials.items()]
        if gateway.custom and not parts:
            parts.append(TRANSPORT_AUTH.get(gateway.name, "from config"))
    return "; ".join(parts) or "key in path"


def flag_of(value: Flag) -> str:
    """A unicode flag value with its type: ``"1"`` a string, ``8`` a number, ``true`` a JSON boolean."""
    kind = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "number"
    return f"`{json.dumps(value, ensure_ascii=False)}` ({kind})"


def per_number_of(g: Gateway) -> str:
    """How the answer is read for several numbers: item by item, or one verdict for the request."""
    each, refused = g.success.each, g.success.refused
    if each is not None:
        where = f"`{each.items}[]`" if each.items else "each item of the list"
        return f"per number: {where} by `{each.number}`, accepted when `{each.ok}` = " + (
            " or ".join(f"`{v}`" for v in each.values) or "non-empty"
        )
    if refused:
        return f"refused numbers listed in `{refused}`; the others share the answer's id"
    if not g.batches_numbers:
        return "one request per number"
    return "one verdict for the whole request (no per-number status known in its answer)"


def success_of(success: Success) -> str:
    codes = "/".join(str(s) for s in success.status)
    if success.text:
        return f"HTTP {codes}, text matches `{success.text}`"
    rule = f"HTTP {codes}"
    if success.field:
        values = " or ".join(f"`{v}`" for v in success.values) or "non-empty"
        rule += f", `{success.field}` = {values}"
    if success.absent:
        rule += ", no " + ", ".join(f"`{k}`" for k in success.absent)
    return rule


def sms_row(g: Gateway) -> str:
    endpoint = f"{g.method} `{g.url}{g.path}`" if g.url or g.path else "configured `base_url`"
    if g.custom:
        endpoint = f"`{g.url}`"
    dlt = ", ".join(f"`{f}`" for f in (g.dlt_entity, g.dlt_template) if f) or NONE
    unicode = f"`{g.unicode[0]}` = {flag_of(g.unicode[2])}" if g.unicode else NONE
    success = TRANSPORT_SUCCESS.get(g.name) or success_of(g.success)
    required = ", ".join(f"`{k}`" for k in g.required) or NONE
    if g.required_any:
        required += "; and " + " or ".join("+".join(f"`{k}`" for k in keys) for keys in g.required_any)
    fields = [
        g.name,
        g.title,
        g.region,
        endpoint,
        TRANSPORT_ENCODING.get(g.name, g.encoding),
        auth_of(g),
        required,
        FORMATS[g.number_format],
        dlt,
        unicode,
        success,
        per_number_of(g),
        g.confidence,
    ]
    return "| " + " | ".join(cell(f) for f in fields) + " |"


def whatsapp_row(p: Provider) -> str:
    paths = "; ".join(f"{kind}: `{path}`" for kind, path in p.paths.items())
    required = ", ".join(f"`{k}`" for k in p.required) or NONE
    if p.defaults:
        required += "; optional " + ", ".join(f"`{k}` (default `{v}`)" for k, v in p.defaults.items())
    success = success_of(p.success_for("template"))
    fields = [
        p.name,
        p.title,
        p.region,
        f"`{p.url or 'base_url'}` {paths}",
        auth_of(p),
        required,
        FORMATS[p.number_format],
        ", ".join(p.kinds),
        success,
        p.confidence,
    ]
    return "| " + " | ".join(cell(f) for f in fields) + " |"


def verified_rows(prefixes: tuple[str, ...] = SDK_PREFIXES) -> list[str]:
    """The definitions whose source starts with one of ``prefixes``: name, channel, confidence and source."""
    rows = [("SMS", g.name, g.confidence, g.source) for g in DEFINITIONS if g.source.startswith(prefixes)]
    rows += [("WhatsApp", p.name, p.confidence, p.source) for p in PROVIDERS if p.source.startswith(prefixes)]
    lines = ["| name | channel | confidence | source |", "|---|---|---|---|"]
    return lines + [f"| {name} | {channel} | {cell(conf)} | {cell(source)} |" for channel, name, conf, source in rows]


def render() -> str:
    indian = sum(1 for g in DEFINITIONS if g.region == "IN")
    lines = [HEADER, f"## SMS gateways ({len(DEFINITIONS)}: {indian} Indian, {len(DEFINITIONS) - indian} others)", ""]
    lines.append(
        "| name | gateway | region | endpoint | encoding | auth | required config | number format "
        "| DLT fields | unicode flag (UCS-2 value) | accepted when | several numbers | confidence |"
    )
    lines.append("|" + "---|" * 13)
    lines += [sms_row(g) for g in DEFINITIONS]
    lines += ["", f"## WhatsApp providers ({len(PROVIDERS)})", ""]
    lines.append(
        "| name | provider | region | endpoint | auth | required config | number format | messages "
        "| accepted when | confidence |"
    )
    lines.append("|" + "---|" * 10)
    lines += [whatsapp_row(p) for p in PROVIDERS]
    lines += ["", SDK_HEADER, *verified_rows(SDK_PREFIXES)]
    lines += ["", DOCS_HEADER, *verified_rows(DOCS_PREFIXES)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
