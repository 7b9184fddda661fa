"""The circuit breakers' Redis layout and its read side, for ``info``, the dashboard and metrics.

The channels (``tasks/gateways/breaker.py``) write one hash per gateway account and channel,
``contract.breaker_key(channel, gateway, label)``, and index the breakers that tripped in the
sorted set ``contract.BREAKERS`` (key -> when its state last changed, epoch ms). Times in the
hash are Redis' own clock (``TIME``, milliseconds), so every worker sees the same cool-down.
Only gateway names and account labels are stored: never a credential or a recipient.

States: *closed* (sending; failures counted), *open* (skipped until ``until``), *half-open*
(cool-down over: the next attempt is the one probe; while it runs, ``probe_until`` is set).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis

from rq_ext import contract

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATES = (CLOSED, OPEN, HALF_OPEN)

#: The hash fields: stored state (``closed`` or ``open``), end of the cool-down and of the
#: running probe (ms), failures in a row, the rate window (start ms, attempts, failures), trips,
#: when it last opened (ms), the class of the last failure, and the names shown.
FIELDS = (
    "state",
    "until",
    "probe_until",
    "fails",
    "w_start",
    "w_calls",
    "w_fails",
    "trips",
    "opened_at",
    "error",
    "channel",
    "gateway",
    "label",
)
#: Most breakers read for one view (the most recently changed first).
LIMIT = 500


@dataclass(frozen=True)
class BreakerView:
    """One breaker as the operator sees it (times in epoch seconds)."""

    channel: str
    gateway: str
    account: str
    state: str
    until: float | None
    remaining_s: float | None
    probing: bool
    failures: int
    trips: int
    opened_at: float | None
    last_error: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(raw: Any) -> int:
    try:
        return int(contract.text(raw) or 0)
    except ValueError:
        return 0


def state_of(fields: dict[str, str], now_ms: int) -> str:
    """The state a hash describes at ``now_ms`` (Redis time)."""
    if fields.get("state") != OPEN:
        return CLOSED
    return OPEN if now_ms < _int(fields.get("until")) else HALF_OPEN


def view_of(fields: dict[str, str], now_ms: int) -> BreakerView:
    """The operator's view of one breaker hash."""
    state = state_of(fields, now_ms)
    until = _int(fields.get("until")) if state != CLOSED else 0
    opened = _int(fields.get("opened_at"))
    return BreakerView(
        channel=fields.get("channel", ""),
        gateway=fields.get("gateway", ""),
        account=fields.get("label", ""),
        state=state,
        until=until / 1000.0 if until else None,
        remaining_s=round(max(0, until - now_ms) / 1000.0, 1) if until else None,
        probing=state == HALF_OPEN and _int(fields.get("probe_until")) > now_ms,
        failures=_int(fields.get("fails")),
        trips=_int(fields.get("trips")),
        opened_at=opened / 1000.0 if opened else None,
        last_error=fields.get("error", ""),
    )


def redis_ms(connection: Redis) -> int:
    """Redis' clock in milliseconds (the clock the breakers' times are written in)."""
    seconds, micros = connection.time()
    return int(seconds) * 1000 + int(micros) // 1000


def read_all(connection: Redis, limit: int = LIMIT) -> list[BreakerView]:
    """Every indexed breaker, most recently changed first; a malformed key is left out."""
    if contract.text(connection.type(contract.BREAKERS)) != "zset":
        return []
    keys = [contract.text(k) for k in connection.zrevrange(contract.BREAKERS, 0, limit - 1)]
    with connection.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        replies = pipe.execute(raise_on_error=False)
    now_ms = redis_ms(connection)
    views = []
    for reply in replies:
        if isinstance(reply, dict) and reply:
            views.append(view_of({contract.text(k): contract.text(v) for k, v in reply.items()}, now_ms))
    return views


def not_closed(views: list[BreakerView]) -> list[BreakerView]:
    """The breakers that skip their account now (open, or half-open awaiting its probe)."""
    return [v for v in views if v.state != CLOSED]


def describe(view: BreakerView) -> str:
    """One line for ``info``: which account, its state, until when, why."""
    name = f"{view.channel} {view.gateway}/{view.account}"
    if view.state == OPEN:
        left = f"open for {view.remaining_s:g} s more"
    else:
        left = "half-open, probe running" if view.probing else "half-open, next attempt probes"
    why = f", last failure {view.last_error}" if view.last_error else ""
    return f"  {name}: {left} ({view.failures} failure(s) in a row, {view.trips} trip(s){why})"


def render(rows: list[dict[str, Any]]) -> list[str]:
    """The lines ``info`` adds for the breakers of a snapshot (``as_dict`` rows) not closed."""
    shown = not_closed([BreakerView(**row) for row in rows])
    if not shown:
        return []
    return [f"{len(shown)} circuit breaker(s) not closed"] + [describe(v) for v in shown]
