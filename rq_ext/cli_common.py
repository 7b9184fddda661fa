"""What every command of ``run_worker.py`` shares: the one-line error, the Redis connection
with the CLI's short timeouts, the settings and the ``-c``/``-u`` options."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click
import redis

from config import Settings, configure, load_settings
from rq_ext import ops
from rq_ext.connection import cli_redis_from_settings, redis_from_settings

__all__ = ["CommandError", "_connect", "_settings", "_talking_to", "config_option", "url_option"]


class CommandError(Exception):
    """A readable, one-line failure of a command."""


def _connect(settings: Settings, for_worker: bool = False) -> redis.Redis:
    """A client that answered PING. The check always uses the short ``CLI_REDIS_TIMEOUT``, so a
    silent or wrong service fails within seconds; a worker then gets its own long-timeout client."""
    connection = cli_redis_from_settings(settings)
    try:
        connection.ping()
    except (redis.RedisError, OSError) as exc:
        raise CommandError(ops.describe_redis_error(settings.REDIS_URL, exc)) from None
    if not for_worker:
        return connection
    connection.close()
    return redis_from_settings(settings)


@contextlib.contextmanager
def _talking_to(settings: Settings) -> Iterator[None]:
    """Redis errors inside (WRONGTYPE, a lost connection...) end the command with one line."""
    try:
        with ops.redis_errors(settings.REDIS_URL):
            yield
    except ops.OperatorError as exc:
        raise CommandError(str(exc)) from None


def _settings(config_module: str, url: str | None = None) -> Settings:
    overrides: dict[str, Any] = {"REDIS_URL": url} if url else {}
    return configure(load_settings(config_module, **overrides))


config_option = click.option(
    "-c",
    "--config",
    "config_module",
    default="instance",
    show_default=True,
    help="Module containing the settings (e.g. 'instance').",
)
url_option = click.option("-u", "--url", default=None, help="Redis URL; overrides REDIS_URL.")
