"""``python run_worker.py`` commands: ``worker``, ``info``, ``enqueue``, ``requeue``, ``demo``.

A bad option, a bad setting or an unreachable Redis ends with one ``error:`` line on stderr and
a non-zero exit, never a traceback.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import time
from typing import Any

import click
import redis

from config import ConfigError, Settings, configure, load_settings
from rq_ext import resilience
from rq_ext.connection import redis_from_settings, serializer_from_settings
from wrappers.logger import setup_logging
from wrappers.masking import mask_text


class CommandError(Exception):
    """A readable, one-line failure of a command."""


def _connect(settings: Settings) -> redis.Redis:
    connection = redis_from_settings(settings)
    try:
        connection.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise CommandError(f"cannot reach Redis at {mask_text(settings.REDIS_URL)}: {exc}") from None
    return connection


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Fusion Worker: delivers SMS, e-mail, push, webhook and WhatsApp jobs from Redis."""


@cli.command()
@config_option
@url_option
@click.option(
    "--customq",
    default="all",
    show_default=True,
    help="Queue to work on: a name, a comma list, or 'all' (every queue in QUEUES except "
    "EXCLUDED_QUEUES, i.e. dictionary and report).",
)
@click.option("-b", "--burst", is_flag=True, help="Run in burst mode (quit when the queues are empty).")
@click.option("-n", "--name", default=None, help="Worker name (default: random).")
@click.option("--logging_level", default=None, help="Logging level (default: LOG_LEVEL, INFO).")
@click.option("-v", "--verbose", is_flag=True, help="Show more output (DEBUG).")
@click.option("-q", "--quiet", is_flag=True, help="Show less output (WARNING).")
@click.option("--results-ttl", type=int, default=None, help="Seconds a finished job's result is kept.")
@click.option("--worker-ttl", type=int, default=None, help="Seconds a worker's registration lives between heartbeats.")
@click.option(
    "--worker-class",
    type=click.Choice(["fork", "simple", "concurrent"]),
    default=None,
    help="fork: a work horse per job (rq's Worker; the default); simple: one job at a time in-process "
    "(rq's SimpleWorker); concurrent: up to --concurrency jobs at once on threads (default when "
    "--concurrency > 1).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Jobs run at once in this process (> 1 selects the concurrent worker class).",
)
@click.option("--max-jobs", type=int, default=None, help="Quit after this many jobs.")
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="JSON lines (default) or plain text.",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve Prometheus metrics on this port (off by default; one port per process).",
)
def worker(
    config_module: str,
    url: str | None,
    customq: str,
    burst: bool,
    name: str | None,
    logging_level: str | None,
    verbose: bool,
    quiet: bool,
    results_ttl: int | None,
    worker_ttl: int | None,
    worker_class: str | None,
    concurrency: int,
    max_jobs: int | None,
    log_format: str,
    metrics_port: int | None,
) -> None:
    """Run a worker on the given queues."""
    settings = _settings(config_module, url)
    level = "DEBUG" if verbose else "WARNING" if quiet else (logging_level or settings.LOG_LEVEL).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise click.UsageError(f"--logging_level: unknown level {level!r}")
    setup_observability(settings, level, log_format)
    connection = _connect(settings)
    if metrics_port is not None:
        from rq_ext.metrics import serve

        serve(metrics_port, connection)
    queues = settings.queue_names(customq)
    chosen = worker_class or ("concurrent" if concurrency > 1 else "fork")
    if concurrency > 1 and chosen != "concurrent":
        raise click.UsageError(f"--concurrency {concurrency} needs --worker-class concurrent")
    cls, extra = _worker_class(chosen, concurrency)
    extra.update(
        connection=connection,
        default_result_ttl=results_ttl if results_ttl is not None else settings.RESULT_TTL,
        worker_ttl=worker_ttl or settings.WORKER_TTL,
        serializer=serializer_from_settings(settings),
    )
    for generation in itertools.count():
        # A generation ends on a stop request, the end of a burst, --max-jobs, or an error
        # (Redis lost mid-loop): then the worker waits for Redis and starts again.
        try:
            w = cls(queues, name=_generation_name(name, generation), **extra)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            w.work(burst=burst, logging_level=level, max_jobs=max_jobs)
        except resilience.REDIS_DOWN as exc:
            logging.getLogger(__name__).warning("worker loop lost Redis (%s)", type(exc).__name__)
        if w._shutdown_requested_date is not None or max_jobs:
            return
        if burst:
            _connect(settings)  # a burst that ended because Redis went away exits non-zero
            return
        logging.getLogger(__name__).warning("worker loop ended unexpectedly; restarting once Redis answers")
        _wait_for_redis(connection)


def _generation_name(name: str | None, generation: int) -> str | None:
    if name is None or generation == 0:
        return name
    return f"{name}-{generation}"


def _wait_for_redis(connection: redis.Redis) -> None:
    delay = 1.0
    while True:
        try:
            connection.ping()
            return
        except resilience.REDIS_DOWN:
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


@cli.command()
@config_option
@url_option
@click.option("--interval", type=float, default=None, help="Refresh every N seconds until interrupted.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(config_module: str, url: str | None, interval: float | None, as_json: bool) -> None:
    """Show each queue's depth, oldest job age, started and failed counts, and the workers."""
    from rq_ext.stats import render, snapshot

    connection = _connect(_settings(config_module, url))
    while True:
        snap = snapshot(connection)
        click.echo(json.dumps(snap) if as_json else render(snap, colour=sys.stdout.isatty()))
        if not interval:
            return
        time.sleep(interval)
        if not as_json:
            click.echo()


@cli.command()
@config_option
@url_option
@click.argument("queue")
@click.option(
    "--payload-file",
    type=click.File("r"),
    required=True,
    help='JSON file with the task dict ({"payload": {...}}), or - for stdin.',
)
@click.option("--priority", type=float, default=0, show_default=True, help="Higher runs first.")
@click.option("--func", default="tasks.dispatch", show_default=True, help="Job function.")
@click.option("--delay", type=float, default=None, help="Seconds before the job is due.")
@click.option("--success-handler", default=None, help="URL for the success callback.")
@click.option("--failed-handler", default=None, help="URL for the failure callback.")
@click.option("--job-id", default=None, help="Job id (default: a new UUID).")
def enqueue(
    config_module: str,
    url: str | None,
    queue: str,
    payload_file: Any,
    priority: float,
    func: str,
    delay: float | None,
    success_handler: str | None,
    failed_handler: str | None,
    job_id: str | None,
) -> None:
    """Write one job onto QUEUE in the server's format; prints its id."""
    from rq_ext.producer import enqueue as write_job

    try:
        task = json.load(payload_file)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--payload-file is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    connection = _connect(_settings(config_module, url))
    job = write_job(
        queue,
        func,
        task,
        priority=priority,
        delay=delay,
        success_task_handler=success_handler,
        failed_task_handler=failed_handler,
        job_id=job_id,
        connection=connection,
    )
    click.echo(job.id)


@cli.command()
@config_option
@url_option
@click.argument("queues", nargs=-1)
@click.option("--job-id", "job_ids", multiple=True, help="Only this failed job (repeatable).")
def requeue(config_module: str, url: str | None, queues: tuple[str, ...], job_ids: tuple[str, ...]) -> None:
    """Put failed jobs back into their queue with their priority (all queues when none named)."""
    from rq_ext.failures import requeue_failed
    from rq_ext.maintenance import known_queue_names

    connection = _connect(_settings(config_module, url))
    names = list(queues) or known_queue_names(connection)
    total = sum(requeue_failed(connection, name, list(job_ids) or None) for name in names)
    click.echo(f"requeued {total} job(s)")


@cli.command()
@config_option
@url_option
@click.option(
    "--max-age",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds within which a worker's heartbeat counts as fresh.",
)
@click.option("--queue", "queue_name", default=None, help="Only workers serving this queue.")
def health(config_module: str, url: str | None, max_age: float, queue_name: str | None) -> None:
    """Exit 0 when Redis answers and at least one worker heartbeat is fresh (for probes)."""
    from rq_ext.stats import fresh_workers

    connection = _connect(_settings(config_module, url))
    workers = fresh_workers(connection, max_age, queue_name)
    if not workers:
        raise CommandError(f"no worker heartbeat in the last {max_age:.0f}s")
    click.echo(f"ok: {len(workers)} worker(s) alive")


@cli.command()
@config_option
@url_option
def demo(config_module: str, url: str | None) -> None:
    """Enqueue a demo batch: one job per channel (meant for DRY_RUN)."""
    from rq_ext.demo import enqueue_demo

    settings = _settings(config_module, url)
    connection = _connect(settings)
    for queue, job_id in enqueue_demo(connection):
        click.echo(f"enqueued {queue:<9} {job_id}")
    if not settings.DRY_RUN:
        click.echo("note: DRY_RUN is off; demo jobs will try to send for real", err=True)


def _worker_class(name: str, concurrency: int) -> tuple[type, dict[str, Any]]:
    from rq_ext.concurrent import FusionConcurrentWorker
    from rq_ext.worker import FusionSimpleWorker, FusionWorker

    if name == "concurrent":
        return FusionConcurrentWorker, {"concurrency": concurrency}
    return {"fork": FusionWorker, "simple": FusionSimpleWorker}[name], {}


def setup_observability(settings: Settings, level: str, log_format: str) -> None:
    """Masked structured logs, Elasticsearch shipping and Sentry, as the settings ask."""
    from wrappers import sentry
    from wrappers.logger import add_handler

    setup_logging(level, log_format)
    if settings.ELASTICSEARCH_URL:
        from wrappers.elastic import ElasticsearchHandler

        add_handler(ElasticsearchHandler(settings.ELASTICSEARCH_URL))
    environment = settings.SENTRY_ENVIRONMENT or settings.CRELIO_DEPLOYMENT_MODE.lower()
    sentry.init(settings.SENTRY_DSN, environment, settings.RELEASE)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; one ``error:`` line and a non-zero status for any expected failure."""
    try:
        result = cli.main(args=argv, prog_name="run_worker.py", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 2
    except click.UsageError as exc:
        click.echo(f"error: {exc.format_message()} (see --help)", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 1
    except (ConfigError, CommandError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 2 if isinstance(exc, ConfigError) else 1
    except ImportError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        click.echo(f"error: Redis connection lost: {exc}", err=True)
        return 1
    return result if isinstance(result, int) else 0


from rq_ext.dashboard.commands import register as _register_dashboard  # noqa: E402

_register_dashboard(cli)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
