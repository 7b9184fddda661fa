"""The outbox (callbacks and hand-overs to the server still to be delivered), read defensively:
absent or malformed keys give an empty page, never an error.

Keys (written by the worker): ``fusion:outbox:due`` (sorted set: entry id -> next attempt),
``fusion:outbox:entries`` (hash: entry id -> JSON), ``fusion:outbox:dead`` (list of JSON entries
given up, newest first)."""

from __future__ import annotations

import json
import time
from typing import Any

from redis import Redis

from rq_ext import contract
from wrappers.masking import mask_text

DUE = contract.OUTBOX_DUE
ENTRIES = contract.OUTBOX_ENTRIES
DEAD = contract.OUTBOX_DEAD
#: The only fields of an entry shown (never ``fields`` or ``body``: callback forms and job args).
SHOWN = ("kind", "job_id", "outcome", "url", "attempts", "created", "last_error", "given_up")
LIMIT = 200


def _entry(raw: Any) -> dict[str, Any]:
    try:
        data = json.loads(contract.text(raw)) if raw else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    out = {name: data.get(name) for name in SHOWN}
    for name in ("url", "last_error", "job_id", "kind", "outcome"):
        out[name] = mask_text(str(out[name]))[:300] if out[name] is not None else None
    if out["url"]:
        out["url"] = out["url"].split("?")[0]
    return out


def _type(connection: Redis, key: str) -> str:
    return contract.text(connection.type(key))


def pending(connection: Redis) -> list[dict[str, Any]]:
    if _type(connection, DUE) != "zset":
        return []
    now = time.time()
    raw: list[Any] = connection.zrange(DUE, 0, LIMIT - 1, withscores=True)
    due = [(contract.text(i), float(s)) for i, s in raw]
    raws = connection.hmget(ENTRIES, [i for i, _ in due]) if due and _type(connection, ENTRIES) == "hash" else []
    rows = []
    for (entry_id, next_try), entry in zip(due, raws or [None] * len(due), strict=True):
        row = _entry(entry)
        row.update(id=entry_id, next_try=next_try, next_in_s=round(next_try - now, 1))
        rows.append(row)
    return rows


def dead(connection: Redis) -> list[dict[str, Any]]:
    if _type(connection, DEAD) != "list":
        return []
    return [_entry(raw) for raw in connection.lrange(DEAD, 0, LIMIT - 1)]


def snapshot(connection: Redis) -> dict[str, Any]:
    rows = pending(connection)
    return {
        "pending": rows,
        "pending_total": connection.zcard(DUE) if _type(connection, DUE) == "zset" else 0,
        "dead": dead(connection),
        "dead_total": connection.llen(DEAD) if _type(connection, DEAD) == "list" else 0,
    }
