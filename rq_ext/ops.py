"""Operator-facing pieces of the CLI (issue 14): the start banner, readable Redis errors and the
``info --interval`` live view."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

from config import Settings
from rq_ext.connection import masked_url

log = logging.getLogger("rq_ext.cli")

ROOT = Path(__file__).resolve().parent.parent


class OperatorError(Exception):
    """A failure to report as one ``error:`` line (the CLI turns it into its CommandError)."""


def version() -> str:
    """The project's version from ``pyproject.toml`` ("unknown" when it can't be read)."""
    try:
        with (ROOT / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def banner_fields(settings: Settings, queues: list[str], worker_class: str, concurrency: int) -> dict[str, Any]:
    """What the start banner says, as structured fields (also in the JSON log line)."""
    return {
        "version": version(),
        "release": settings.RELEASE or None,
        "mode": settings.CRELIO_DEPLOYMENT_MODE,
        "zone": settings.CRELIO_DEPLOYMENT_ZONE,
        "queues": ",".join(queues),
        "worker_class": worker_class,
        "concurrency": concurrency,
        "redis": masked_url(settings.REDIS_URL),
        "dry_run": settings.DRY_RUN,
    }


def log_banner(settings: Settings, queues: list[str], worker_class: str, concurrency: int) -> dict[str, Any]:
    """One INFO line saying what this worker is; a WARNING too when DRY_RUN is on."""
    fields = banner_fields(settings, queues, worker_class, concurrency)
    release = f" ({fields['release']})" if fields["release"] else ""
    log.info(
        "Fusion Worker %s%s starting: mode=%s zone=%s queues=%s worker_class=%s concurrency=%d redis=%s DRY_RUN=%s",
        fields["version"],
        release,
        fields["mode"],
        fields["zone"],
        fields["queues"],
        fields["worker_class"],
        fields["concurrency"],
        fields["redis"],
        "on" if fields["dry_run"] else "off",
        extra={"event": "start", "details": fields},
    )
    if settings.DRY_RUN:
        log.warning("DRY_RUN is on: nothing will be sent; jobs are logged and marked finished")
    return fields


# -- Redis errors -------------------------------------------------------------------------------


def _hint(url: str, exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, redis.exceptions.InvalidResponse):
        return " (the service there does not speak the Redis protocol)"
    if "DB index is out of range" in text:
        return " (the database number in REDIS_URL is higher than the server's 'databases')"
    tls = url.startswith("rediss://")
    if isinstance(exc, redis.TimeoutError):
        return " (rediss:// asks for TLS: does that server speak TLS?)" if tls else " (is it a Redis server?)"
    if isinstance(exc, redis.AuthenticationError):
        return " (check the user and password in REDIS_URL)"
    if isinstance(exc, redis.ConnectionError) and _looks_like_tls_mismatch(text):
        return " (TLS mismatch? rediss:// is TLS, redis:// is plain: does the server expect TLS?)"
    return ""


def _looks_like_tls_mismatch(text: str) -> bool:
    lowered = text.lower()
    return any(sign in lowered for sign in ("ssl", "tls", "closed by server", "reset by peer"))


def describe_redis_error(url: str, exc: BaseException, verb: str = "cannot reach Redis") -> str:
    """One line naming the Redis (password masked), what went wrong and a hint."""
    detail = str(exc) or type(exc).__name__
    return f"{verb} at {masked_url(url)}: {detail}{_hint(url, exc)}"


@contextlib.contextmanager
def redis_errors(url: str) -> Iterator[None]:
    """Turn any Redis error raised inside into an :class:`OperatorError` of one line."""
    try:
        yield
    except redis.ResponseError as exc:
        raise OperatorError(describe_redis_error(url, exc, "Redis refused a command")) from None
    except redis.RedisError as exc:
        raise OperatorError(describe_redis_error(url, exc, "lost Redis")) from None


# -- info --interval ----------------------------------------------------------------------------


def _header(url: str, interval: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"Fusion Worker  {stamp}  Redis {masked_url(url)}  every {interval:g}s (Ctrl-C to quit)"


def watch(snapshot: Callable[[], dict[str, Any]], url: str, interval: float, as_json: bool) -> None:
    """Show a snapshot every ``interval`` seconds until Ctrl-C, which ends quietly.

    On a terminal the view is redrawn in place (``rich.live.Live``); otherwise (a pipe, a log
    file) or with ``--json`` each snapshot is printed after the previous one."""
    try:
        if as_json or not sys.stdout.isatty():
            _print_loop(snapshot, url, interval, as_json)
        else:
            _live_loop(snapshot, url, interval)
    except KeyboardInterrupt:
        return


def _print_loop(snapshot: Callable[[], dict[str, Any]], url: str, interval: float, as_json: bool) -> None:
    from rq_ext.stats import render

    while True:
        snap = snapshot()
        if as_json:
            print(json.dumps({"time": time.time(), **snap}), flush=True)
        else:
            print(f"{_header(url, interval)}\n{render(snap)}\n", flush=True)
        time.sleep(interval)


def _live_loop(snapshot: Callable[[], dict[str, Any]], url: str, interval: float) -> None:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from rq_ext.stats import render

    with Live(auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as live:
        while True:
            snap = snapshot()
            frame = Group(Text(_header(url, interval), style="bold"), Text.from_ansi(render(snap, colour=True)))
            live.update(frame, refresh=True)
            time.sleep(interval)
