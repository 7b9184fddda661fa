"""Typed settings for Fusion Worker.

Settings come from three layers, later ones winning:

1. the defaults of :class:`Settings`;
2. the UPPERCASE globals of a config module (``-c instance``): ``instance/__init__.py`` picks
   ``instance/local.py``, ``production.py`` or ``test.py`` by ``CRELIO_DEPLOYMENT_MODE`` and
   adds the zone's values by ``CRELIO_DEPLOYMENT_ZONE``;
3. environment variables of the same name as the setting (``REDIS_URL``, ``DRY_RUN``, ...).

Every value is validated when loaded; a wrong value raises :class:`ConfigError` naming the
setting. Secrets are never committed: production reads them from the environment.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import json
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

MODES = ("LOCAL", "PRODUCTION", "TEST")

#: Queues a worker serves for ``--customq all``, in the order they are tried.
#: Jobs at once of the event-loop worker class (``--worker-class async``) without ``--concurrency``.
ASYNC_CONCURRENCY = 256
DEFAULT_QUEUES = ["sms", "email", "pn", "webhook", "whatsapp", "scheduler", "dictionary", "report"]


class ConfigError(ValueError):
    """A setting is missing or has a wrong value; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Every setting of the worker, with its default. Each can be set by an environment variable."""

    CRELIO_DEPLOYMENT_MODE: str = "LOCAL"
    CRELIO_DEPLOYMENT_ZONE: str = "IN"
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    FUSION_SERVER: str = ""
    AWS_REGION: str = "ap-south-1"
    QUEUES: list[str] = field(default_factory=lambda: list(DEFAULT_QUEUES))
    #: Queues left out of ``--customq all``.
    EXCLUDED_QUEUES: list[str] = field(default_factory=lambda: ["dictionary", "report"])
    WEBHOOK_WHITELIST: str = r"^https?://"
    WEBHOOK_ALLOWED_NETWORKS: list[str] = field(default_factory=list)
    DRY_RUN: bool = False
    MAX_RETRIES: int = 10
    RETRY_BACKOFF_BASE: float = 5.0
    RETRY_BACKOFF_MAX: float = 3600.0
    RETRY_TASK_TIMEOUT: float = 10.0
    CALLBACK_TIMEOUT: float = 10.0
    #: The outbox (callbacks and hand-overs): sender threads per worker process, how often an
    #: idle sender looks for due entries, the first retry delay (doubling), its cap, and how long
    #: after the outcome a callback is still tried before it is given up.
    OUTBOX_SENDERS: int = 2
    #: The event-loop worker class: threads for the jobs with no sans-I/O form (at most
    #: ``--concurrency``, whose default for that class is :data:`ASYNC_CONCURRENCY`).
    ASYNC_BLOCKING_THREADS: int = 32
    #: The event-loop worker class's HTTP client: ``native`` (asyncio protocols over httptools'
    #: parser, :mod:`wrappers.loop_http`) or ``aiohttp``.
    ASYNC_HTTP_CLIENT: str = "native"
    #: The event-loop worker class's Redis client on its loop: ``native`` (RESP over an asyncio
    #: protocol with hiredis' reader, :mod:`rq_ext.resp`; TLS and sentinel connections keep
    #: redis-py's) or ``redis-py`` (redis-py's asyncio client).
    ASYNC_REDIS_CLIENT: str = "native"
    OUTBOX_POLL: float = 1.0
    OUTBOX_BACKOFF_BASE: float = 1.0
    OUTBOX_BACKOFF_MAX: float = 600.0
    OUTBOX_HORIZON: float = 12 * 3600.0
    MAINTENANCE_INTERVAL: int = 24 * 3600
    FAILED_JOB_TTL: int = 7 * 24 * 3600
    RESULT_TTL: int = 500
    WORKER_TTL: int = 420
    DEFAULT_JOB_TIMEOUT: int = 180
    #: Seconds a claim is valid without renewal; a dead worker's jobs come back after it.
    CLAIM_LEASE: int = 10
    #: Seconds between two abandoned-job recovery passes.
    RECOVERY_INTERVAL: float = 2.0
    #: A job abandoned more often than this goes to the failed registry.
    MAX_RECOVERIES: int = 3
    #: Seconds between two promotions of due delayed jobs.
    PROMOTE_INTERVAL: float = 0.5
    #: Longest an idle worker waits for a wake-up token before it tries to claim anyway.
    POLL_INTERVAL: float = 0.75
    #: Seconds a finished job's bookkeeping keeps retrying while Redis is unreachable.
    REDIS_OUTAGE_GRACE: float = 300.0
    #: ``pickle`` (rq's default, what existing producers write) or ``json`` (refuses pickle).
    SERIALIZER: str = "pickle"
    #: Redis Sentinel: ``host:port`` list; when set, REDIS_URL only supplies db/password/TLS.
    REDIS_SENTINELS: list[str] = field(default_factory=list)
    REDIS_SENTINEL_MASTER: str = "mymaster"
    #: Dotted prefixes of the functions a job may name.
    JOB_FUNCTION_ALLOWLIST: list[str] = field(default_factory=lambda: ["tasks."])
    LOG_LEVEL: str = "INFO"
    #: Modules imported at worker start (a forked work horse finds them loaded).
    PRELOAD_MODULES: list[str] = field(
        default_factory=lambda: [
            "tasks.sms",
            "tasks.email",
            "tasks.push_notification",
            "tasks.webhooks",
            "tasks.whatsapp",
        ]
    )
    #: Job middleware of the channels, ``module:Class``, after the built-ins (log context, metrics,
    #: the job event); e.g. the webhook staging rule.
    JOB_MIDDLEWARE: list[str] = field(default_factory=lambda: ["tasks.webhooks:StagingRule"])
    # -- operations (issue 14) -------------------------------------------------------------------
    #: Seconds a CLI command (info, health, enqueue, requeue, demo) waits for Redis to connect or
    #: answer before it fails; the worker keeps its own long timeouts.
    CLI_REDIS_TIMEOUT: float = 3.0
    #: Longest delay a provider's ``Retry-After`` can impose on a retry; longer values are capped.
    RETRY_AFTER_MAX: float = 3600.0

    # -- SMS and WhatsApp (issue 3) ------------------------------------------------------------
    #: Named credentials, so secrets need not travel in Redis: {"<account>": {"gateway": ..., ...}}.
    SMS_ACCOUNTS: dict[str, Any] = field(default_factory=dict)
    WHATSAPP_ACCOUNTS: dict[str, Any] = field(default_factory=dict)
    #: Seconds before an SMS/WhatsApp provider request times out.
    PROVIDER_TIMEOUT: float = 15.0

    # -- circuit breakers (issue 15) -------------------------------------------------------------
    #: One breaker per gateway account, shared by every worker through Redis (docs/sms.md).
    BREAKER_ENABLED: bool = True
    #: Retryable failures in a row that open an account's breaker.
    BREAKER_FAILURES: int = 5
    #: Share of failed attempts (0-1) in a window of ``BREAKER_WINDOW`` seconds that opens it,
    #: once the window holds ``BREAKER_MIN_CALLS`` attempts; 0 turns the rate rule off.
    BREAKER_FAILURE_RATE: float = 0.5
    BREAKER_WINDOW: float = 60.0
    BREAKER_MIN_CALLS: int = 20
    #: Seconds an open breaker skips its account before one probe request may try it again.
    BREAKER_COOLDOWN: float = 30.0
    #: Seconds the probe may take before another worker may probe instead (a probe that died).
    BREAKER_PROBE_TIMEOUT: float = 60.0

    # -- e-mail, push, webhooks (issue 4) --------------------------------------------------------
    WEBHOOK_MAX_BODY_BYTES: int = 1024 * 1024
    WEBHOOK_MAX_RESPONSE_BYTES: int = 64 * 1024
    EMAIL_ACCOUNTS: dict[str, Any] = field(default_factory=dict)
    ATTACHMENT_MAX_BYTES: int = 10 * 1024 * 1024
    PUSH_ACCOUNTS: dict[str, Any] = field(default_factory=dict)
    #: Push provider endpoints (a proxy, Apple's sandbox, a test's server): FCM HTTP v1, the OAuth
    #: token endpoint every FCM grant goes to (whatever a service account's ``token_uri`` says),
    #: APNs production, and APNs sandbox (for a config with ``"sandbox": true``).
    FCM_ENDPOINT: str = "https://fcm.googleapis.com"
    FCM_OAUTH_TOKEN_URI: str = "https://oauth2.googleapis.com/token"
    APNS_ENDPOINT: str = "https://api.push.apple.com"
    APNS_SANDBOX_ENDPOINT: str = "https://api.sandbox.push.apple.com"

    # -- observability (issue 5) ---------------------------------------------------------------
    SENTRY_DSN: str = ""
    SENTRY_ENVIRONMENT: str = ""
    RELEASE: str = ""
    ELASTICSEARCH_URL: str = ""

    # -- security (issue 12) -------------------------------------------------------------------
    #: Classes (``module.Name``) the restricted unpickler may build besides plain data.
    PICKLE_SAFE_CLASSES: list[str] = field(
        default_factory=lambda: (
            [f"datetime.{n}" for n in ("datetime", "date", "time", "timedelta", "timezone")]
            + ["decimal.Decimal", "uuid.UUID"]
        )
    )
    #: Networks a callback URL may reach: loopback and private ranges (the platform's own servers);
    #: link-local and the cloud metadata addresses are refused whatever this says.
    CALLBACK_ALLOWED_NETWORKS: list[str] = field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
    )
    #: Address the metrics listener binds (``--metrics-port``).
    METRICS_BIND: str = "127.0.0.1"

    # -- dashboard (issue 13) ------------------------------------------------------------------
    #: Token that unlocks the dashboard's actions (requeue, delete); empty: read-only.
    DASHBOARD_TOKEN: str = ""
    #: Seconds a job may sit in no queue, registry or claim before ``doctor`` calls it orphaned.
    DOCTOR_ORPHAN_AGE: float = 600.0

    def queue_names(self, customq: str) -> list[str]:
        """The queues a worker serves for a ``--customq`` value: a name, a comma list or ``all``."""
        if customq.strip() == "all":
            return [q for q in self.QUEUES if q not in self.EXCLUDED_QUEUES]
        names = [q.strip() for q in customq.split(",") if q.strip()]
        if not names:
            raise ConfigError("--customq: no queue named")
        return names


def _parse(name: str, kind: Any, raw: str) -> Any:
    """Turn an environment string into the setting's type."""
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}: expected a boolean (true/false), got {raw!r}")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if typing.get_origin(kind) is dict:
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name}: invalid JSON object ({exc.msg})") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a JSON object")
        return value
    if typing.get_origin(kind) is list:
        text = raw.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{name}: invalid JSON list ({exc.msg})") from None
            return [str(v) for v in value]
        return [part.strip() for part in text.split(",") if part.strip()]
    return raw


def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _module_values(module_name: str | None) -> dict[str, Any]:
    if not module_name:
        return {}
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"config module {module_name!r} cannot be imported: {exc}") from None
    return _uppercase(module)


def _uppercase(module: types.ModuleType) -> dict[str, Any]:
    return {k: v for k, v in vars(module).items() if k.isupper() and not k.startswith("_")}


def _check_type(name: str, kind: Any, value: Any) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    origin = typing.get_origin(kind) or kind
    if not isinstance(value, origin) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{name}: expected {getattr(origin, '__name__', origin)}, got {value!r}")
    return value


def _validate(s: Settings) -> None:
    _validate_connections(s)
    _validate_endpoints(s)
    _validate_ranges(s)
    _validate_numbers(s)
    _validate_choices(s)
    _validate_security(s)
    _validate_whitelist(s)


#: The smallest value each numeric setting takes, and whether that value itself is allowed:
#: every int and float setting is listed (a test checks it), so none is left unbounded.
NUMERIC_MINIMUMS: dict[str, tuple[float, bool]] = {
    "MAX_RETRIES": (0, True),  # 0: a retryable failure fails at once
    "RETRY_BACKOFF_BASE": (0, False),
    "RETRY_BACKOFF_MAX": (0, False),
    "RETRY_TASK_TIMEOUT": (0, False),
    "CALLBACK_TIMEOUT": (0, False),
    "OUTBOX_SENDERS": (1, True),
    "ASYNC_BLOCKING_THREADS": (1, True),
    "OUTBOX_POLL": (0, False),
    "OUTBOX_BACKOFF_BASE": (0, False),
    "OUTBOX_BACKOFF_MAX": (0, False),
    "OUTBOX_HORIZON": (0, False),
    "MAINTENANCE_INTERVAL": (0, False),
    "FAILED_JOB_TTL": (0, False),
    "RESULT_TTL": (-1, True),  # rq: 0 keeps no result, -1 keeps it for ever
    "WORKER_TTL": (0, False),
    "DEFAULT_JOB_TIMEOUT": (0, False),
    "CLAIM_LEASE": (0, False),
    "RECOVERY_INTERVAL": (0, False),
    "MAX_RECOVERIES": (0, True),
    "PROMOTE_INTERVAL": (0, False),
    "POLL_INTERVAL": (0, False),
    "REDIS_OUTAGE_GRACE": (0, True),  # 0: no riding out of a Redis outage
    "PROVIDER_TIMEOUT": (0, False),
    "WEBHOOK_MAX_BODY_BYTES": (0, False),
    "WEBHOOK_MAX_RESPONSE_BYTES": (0, True),  # 0: the response body is not read
    "ATTACHMENT_MAX_BYTES": (0, False),
    "CLI_REDIS_TIMEOUT": (0, False),
    "RETRY_AFTER_MAX": (0, True),  # 0: Retry-After is ignored (the own backoff applies)
    "DOCTOR_ORPHAN_AGE": (0, True),  # 0: any job in no queue is an orphan
    "BREAKER_FAILURES": (1, True),
    "BREAKER_FAILURE_RATE": (0, True),  # 0: only BREAKER_FAILURES in a row open a breaker
    "BREAKER_WINDOW": (0, False),
    "BREAKER_MIN_CALLS": (1, True),
    "BREAKER_COOLDOWN": (0, False),
    "BREAKER_PROBE_TIMEOUT": (0, False),
}


def _validate_ranges(s: Settings) -> None:
    """Fail closed: a zero, negative or non-finite number where it makes no sense names its setting."""
    for name, (low, inclusive) in NUMERIC_MINIMUMS.items():
        value = getattr(s, name)
        if not math.isfinite(value):
            raise ConfigError(f"{name}: must be a finite number, got {value!r}")
        if value < low or (value == low and not inclusive):
            bound = f">= {low:g}" if inclusive else f"> {low:g}"
            raise ConfigError(f"{name}: must be {bound}, got {value!r}")
    if s.RETRY_BACKOFF_MAX < s.RETRY_BACKOFF_BASE:
        raise ConfigError("RETRY_BACKOFF_MAX: must be >= RETRY_BACKOFF_BASE")
    if s.BREAKER_FAILURE_RATE > 1:
        raise ConfigError(f"BREAKER_FAILURE_RATE: must be <= 1 (a share of attempts), got {s.BREAKER_FAILURE_RATE!r}")


def _validate_whitelist(s: Settings) -> None:
    """An empty ``WEBHOOK_WHITELIST`` would match every URL: the worker refuses to start instead."""
    if not s.WEBHOOK_WHITELIST.strip():
        raise ConfigError(
            "WEBHOOK_WHITELIST: empty, which would allow every URL; set a regular expression "
            "(e.g. '^https://hooks\\.example\\.com/'), or '(?!)' to allow none"
        )


def _validate_connections(s: Settings) -> None:
    if s.CRELIO_DEPLOYMENT_MODE not in MODES:
        raise ConfigError(f"CRELIO_DEPLOYMENT_MODE: must be one of {', '.join(MODES)}")
    if not re.match(r"^(redis|rediss|unix)://", s.REDIS_URL):
        raise ConfigError("REDIS_URL: must start with redis://, rediss:// or unix://")
    if s.FUSION_SERVER and not re.match(r"^https?://", s.FUSION_SERVER):
        raise ConfigError("FUSION_SERVER: must be an http(s) URL or empty")
    try:
        re.compile(s.WEBHOOK_WHITELIST)
    except re.error as exc:
        raise ConfigError(f"WEBHOOK_WHITELIST: invalid regular expression ({exc})") from None
    for cidr in s.WEBHOOK_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"WEBHOOK_ALLOWED_NETWORKS: {cidr!r} is not a CIDR network") from None
    for address in s.REDIS_SENTINELS:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"REDIS_SENTINELS: {address!r} is not host:port")


#: Provider endpoints: each must be an http(s) URL with a host.
ENDPOINT_SETTINGS = ("FCM_ENDPOINT", "FCM_OAUTH_TOKEN_URI", "APNS_ENDPOINT", "APNS_SANDBOX_ENDPOINT")


def _validate_endpoints(s: Settings) -> None:
    for name in ENDPOINT_SETTINGS:
        if not re.match(r"^https?://[^/\s?#]+(/\S*)?$", getattr(s, name)):
            raise ConfigError(f"{name}: must be an http(s) URL (scheme and host)")


def _validate_numbers(s: Settings) -> None:
    for name in ("MAINTENANCE_INTERVAL", "FAILED_JOB_TTL", "CLAIM_LEASE", "WORKER_TTL", "DEFAULT_JOB_TIMEOUT"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{name}: must be positive")
    for name in ("RECOVERY_INTERVAL", "PROMOTE_INTERVAL", "POLL_INTERVAL", "CALLBACK_TIMEOUT"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{name}: must be positive")
    if s.MAX_RETRIES < 0 or s.MAX_RECOVERIES < 0:
        raise ConfigError("MAX_RETRIES, MAX_RECOVERIES: must be >= 0")
    if s.OUTBOX_SENDERS < 1:
        raise ConfigError("OUTBOX_SENDERS: must be at least 1")
    for name in ("OUTBOX_POLL", "OUTBOX_BACKOFF_BASE", "OUTBOX_BACKOFF_MAX", "OUTBOX_HORIZON"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{name}: must be positive")


def _validate_choices(s: Settings) -> None:
    if s.SERIALIZER not in ("pickle", "json"):
        raise ConfigError("SERIALIZER: must be pickle or json")
    if s.ASYNC_HTTP_CLIENT not in ("native", "aiohttp"):
        raise ConfigError("ASYNC_HTTP_CLIENT: must be native or aiohttp")
    if s.ASYNC_REDIS_CLIENT not in ("native", "redis-py"):
        raise ConfigError("ASYNC_REDIS_CLIENT: must be native or redis-py")
    if not s.QUEUES:
        raise ConfigError("QUEUES: at least one queue is needed")
    if s.LOG_LEVEL.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL: unknown level {s.LOG_LEVEL!r}")


def _validate_security(s: Settings) -> None:
    for cidr in s.CALLBACK_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"CALLBACK_ALLOWED_NETWORKS: {cidr!r} is not a CIDR network") from None
    try:
        ipaddress.ip_address(s.METRICS_BIND)
    except ValueError:
        raise ConfigError(f"METRICS_BIND: {s.METRICS_BIND!r} is not an IP address") from None
    for dotted in s.PICKLE_SAFE_CLASSES:
        module, _, name = dotted.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), name) if module else None
        except (ImportError, AttributeError, ValueError):
            found = None
        if not isinstance(found, type):
            raise ConfigError(f"PICKLE_SAFE_CLASSES: {dotted!r} is not an importable class (module.Name)")


def load_settings(
    module_name: str | None = "instance", env: dict[str, str] | None = None, **overrides: Any
) -> Settings:
    """Build validated settings from a config module, the environment and explicit overrides."""
    env = dict(os.environ if env is None else env)
    types_by_name = _field_types()
    values: dict[str, Any] = {}
    for name, value in _module_values(module_name).items():
        if name in types_by_name:
            values[name] = _check_type(name, types_by_name[name], value)
    for name, kind in types_by_name.items():
        if name in env:
            values[name] = _parse(name, kind, env[name])
    for name, value in overrides.items():
        if name not in types_by_name:
            raise ConfigError(f"{name}: unknown setting")
        values[name] = _check_type(name, types_by_name[name], value)
    settings = Settings(**values)
    _validate(settings)
    return settings


_current: Settings | None = None


def configure(settings: Settings) -> Settings:
    """Make ``settings`` the process-wide settings returned by :func:`get_settings`."""
    global _current
    _current = settings
    return settings


def get_settings() -> Settings:
    """The process-wide settings; loaded from ``instance`` and the environment on first use."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def settings_table() -> str:
    """The configuration reference as a Markdown table (``python config.py``)."""
    rows = ["| setting (= environment variable) | type | default |", "|---|---|---|"]
    types_by_name = _field_types()
    defaults = Settings()
    for name, kind in types_by_name.items():
        default = getattr(defaults, name)
        shown = json.dumps(default) if isinstance(default, list | dict) else repr(default)
        rows.append(f"| `{name}` | {getattr(kind, '__name__', str(kind))} | `{shown}` |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
