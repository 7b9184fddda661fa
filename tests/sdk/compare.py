"""A recorded HTTP request reduced to what a provider reads, so two requests can be compared.

Both the SDK's request and the gateway's go through :func:`normalise`: credentials are replaced
by ``<config_key>`` placeholders wherever they appear (URL path, query, headers, body, HTTP Basic),
so "where each credential goes" is part of the comparison; the content type is reduced to its
media type; the body is parsed (JSON or form); headers are kept only when they carry a credential
or are named by the row. Paths named in a row's ``ignore`` are dropped from both sides.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from werkzeug import Request

#: Media types of the bodies that are parsed.
JSON_TYPE, FORM_TYPE = "application/json", "application/x-www-form-urlencoded"


def substitute(value: Any, placeholders: Mapping[str, str]) -> Any:
    """``value`` with every credential (a key of ``placeholders``) replaced by its placeholder."""
    if isinstance(value, str):
        for secret in sorted(placeholders, key=len, reverse=True):
            value = value.replace(secret, placeholders[secret])
        return value
    if isinstance(value, list):
        return [substitute(item, placeholders) for item in value]
    if isinstance(value, dict):
        return {substitute(k, placeholders): substitute(v, placeholders) for k, v in value.items()}
    return value


def flat(values: Mapping[str, list[str]]) -> dict[str, Any]:
    """A parsed query or form: one value as itself, several as a list."""
    return {key: items[0] if len(items) == 1 else items for key, items in values.items()}


def authorization(value: str) -> str:
    """An ``Authorization`` header with Basic credentials decoded (``Basic user:password``)."""
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "basic":
        return "Basic " + base64.b64decode(token).decode()
    return value


def body_of(request: Request, media: str) -> Any:
    raw = request.get_data()
    if not raw:
        return None
    text = raw.decode()
    if media == JSON_TYPE:
        return json.loads(text)
    if media == FORM_TYPE:
        return flat(parse_qs(text, keep_blank_values=True))
    return text


def normalise(request: Request, credentials: Mapping[str, str], headers: Iterable[str] = ()) -> dict[str, Any]:
    """The comparable form of ``request``: ``credentials`` maps config key -> value sent."""
    placeholders = {str(value): f"<{key}>" for key, value in credentials.items() if value}
    media = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    kept: dict[str, str] = {}
    named = {h.lower() for h in headers}
    for name, value in request.headers.items():
        decoded = authorization(value) if name.lower() == "authorization" else value
        shown = substitute(decoded, placeholders)
        if name.lower() in named or shown != decoded:
            kept[name.lower()] = shown
    return {
        "method": request.method,
        "path": substitute(request.path, placeholders),
        "query": substitute(flat(parse_qs(request.query_string.decode(), keep_blank_values=True)), placeholders),
        "content_type": media or None,
        "headers": kept,
        "body": substitute(body_of(request, media), placeholders),
    }


def prune_nulls(value: Any) -> Any:
    """``value`` without the JSON nulls of objects (for SDKs that send every optional field as null)."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(item) for item in value]
    return value


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path (``body.messages.0.to``), or None."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def drop(data: Any, path: list[str]) -> None:
    """Remove the value at ``path`` (``*`` matches every key or index) from ``data``, in place."""
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        keys = list(data) if head == "*" else [head] if head in data else []
        for key in keys:
            if rest:
                drop(data[key], rest)
            else:
                del data[key]
    elif isinstance(data, list):
        indexes = range(len(data)) if head == "*" else [int(head)] if head.isdigit() and int(head) < len(data) else []
        for index in sorted(indexes, reverse=True):
            if rest:
                drop(data[index], rest)
            else:
                del data[index]


def without(normalised: dict[str, Any], ignore: Iterable[str]) -> dict[str, Any]:
    """A copy of ``normalised`` without the ``ignore`` paths (and without empty query/body dicts)."""
    copy: dict[str, Any] = json.loads(json.dumps(normalised))
    for path in ignore:
        drop(copy, path.split("."))
    return copy
