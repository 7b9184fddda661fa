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

from config import ASYNC_CONCURRENCY, ConfigError, Settings
from rq_ext import contract, ops, resilience
from rq_ext.cli_common import CommandError, _connect, _settings, _talking_to, config_option, url_option
from rq_ext.connection import serializer_from_settings
from wrappers.logger import setup_logging


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
@click.option(
    "--results-ttl",
    type=click.IntRange(min=-1),
    default=None,
    help="Seconds a finished job's result is kept (0: not kept, -1: for ever).",
)
@click.option(
    "--worker-ttl",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds a worker's registration lives between heartbeats.",
)
@click.option(
    "--worker-class",
    type=click.Choice(["fork", "simple", "concurrent", "async"]),
    default=None,
    help="fork: a work horse per job (rq's Worker; the default); simple: one job at a time in-process "
    "(rq's SimpleWorker); concurrent: up to --concurrency jobs at once on threads (default when "
    "--concurrency > 1); async: up to --concurrency jobs at once on one event loop (sends through "
    "aiohttp; jobs with no sans-I/O form on a thread pool).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs run at once in this process (> 1 selects the concurrent worker class) [default: 1; "
    f"{ASYNC_CONCURRENCY} with --worker-class async].",
)
@click.option("--max-jobs", type=click.IntRange(min=1), default=None, help="Quit after this many jobs (>= 1).")
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="JSON lines (default) or plain text.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
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
    concurrency: int | None,
    max_jobs: int | None,
    log_format: str,
    metrics_port: int | None,
) -> None:
    """Run a worker on the given queues."""
    settings = _settings(config_module, url)
    level = "DEBUG" if verbose else "WARNING" if quiet else (logging_level or settings.LOG_LEVEL).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise click.UsageError(f"--logging_level: unknown level {level!r}")
    queues = settings.queue_names(customq)
    concurrency = concurrency or (ASYNC_CONCURRENCY if worker_class == "async" else 1)
    chosen = worker_class or ("concurrent" if concurrency > 1 else "fork")
    if concurrency > 1 and chosen not in ("concurrent", "async"):
        raise click.UsageError(f"--concurrency {concurrency} needs --worker-class concurrent or async")
    setup_observability(settings, level, log_format)
    connection = _connect(settings, for_worker=True)
    ops.log_banner(settings, queues, chosen, concurrency)
    if metrics_port is not None:
        _serve_metrics(metrics_port, connection)
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
            _work(w, burst=burst, logging_level=level, max_jobs=max_jobs)
        except resilience.REDIS_DOWN as exc:
            logging.getLogger(__name__).warning("worker loop lost Redis (%s)", type(exc).__name__)
        if w._shutdown_requested_date is not None or max_jobs:
            return
        if burst:
            _connect(settings)  # a burst that ended because Redis went away exits non-zero
            return
        logging.getLogger(__name__).warning("worker loop ended unexpectedly; restarting once Redis answers")
        _wait_for_redis(connection)


def _work(w: Any, **options: Any) -> None:
    """``w.work(...)``; rq's refusal of a duplicate worker name becomes one ``error:`` line."""
    try:
        w.work(**options)
    except ValueError as exc:
        if "There exists an active worker named" not in str(exc):
            raise
        raise CommandError(
            f"{exc}: another live worker uses this name; pick another --name, or stop that worker "
            "(a dead one's registration expires after --worker-ttl)"
        ) from None


def _serve_metrics(port: int, connection: redis.Redis) -> None:
    from rq_ext.metrics import serve

    try:
        serve(port, connection)
    except OSError as exc:
        raise CommandError(f"--metrics-port {port}: cannot listen ({exc.strerror or exc})") from None


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
@click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Redraw every N seconds (in place, like top) until Ctrl-C.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (one line per refresh).")
def info(config_module: str, url: str | None, interval: float | None, as_json: bool) -> None:
    """Show each queue's depth, oldest job age, started and failed counts, and the workers."""
    from rq_ext.stats import render, snapshot

    settings = _settings(config_module, url)
    connection = _connect(settings)
    with _talking_to(settings):
        if interval:
            ops.watch(lambda: snapshot(connection), settings.REDIS_URL, interval, as_json)
            return
        snap = snapshot(connection)
    click.echo(json.dumps(snap) if as_json else render(snap, colour=sys.stdout.isatty()))


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
    settings = _settings(config_module, url)
    connection = _connect(settings)
    with _talking_to(settings):
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
        _warn_if_unserved(connection, queue)
    click.echo(job.id)


def _warn_if_unserved(connection: redis.Redis, queue: str) -> None:
    from rq_ext.stats import fresh_workers

    if not fresh_workers(connection, 120, queue):
        click.echo(f"warning: no live worker serves queue {queue!r}; the job waits until one does", err=True)


@cli.command()
@config_option
@url_option
@click.argument("queues", nargs=-1)
@click.option("--job-id", "job_ids", multiple=True, help="Only this failed job (repeatable).")
def requeue(config_module: str, url: str | None, queues: tuple[str, ...], job_ids: tuple[str, ...]) -> None:
    """Put failed jobs back into their queue with their priority (all queues when none named)."""
    from rq_ext.failures import requeue_failed
    from rq_ext.queue import known_queue_names

    settings = _settings(config_module, url)
    connection = _connect(settings)
    with _talking_to(settings):
        known = known_queue_names(connection)
        names = list(queues) or known
        _check_requeue(connection, names, known, job_ids)
        total = sum(requeue_failed(connection, name, list(job_ids) or None) for name in names)
    click.echo(f"requeued {total} job(s)")


def _check_requeue(connection: redis.Redis, names: list[str], known: list[str], job_ids: tuple[str, ...]) -> None:
    """Refuse, before moving anything, an unknown queue or a job id that is in no failed registry."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CommandError(f"unknown queue(s): {', '.join(unknown)} (known: {', '.join(known)})")
    for job_id in job_ids:
        if not any(connection.zscore(contract.FAILED_PREFIX + n, job_id) is not None for n in names):
            raise CommandError(f"job {job_id!r} is not in the failed registry of {', '.join(names)}")


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

    settings = _settings(config_module, url)
    connection = _connect(settings)
    with _talking_to(settings):
        workers = fresh_workers(connection, max_age, queue_name)
    if not workers:
        raise CommandError(f"no worker heartbeat in the last {max_age:.0f}s")
    click.echo(f"ok: {len(workers)} worker(s) alive")


@cli.command()
@config_option
@url_option
@click.option("--save", type=click.Path(dir_okay=False), default=None, help="Also write the job ids to FILE (JSON).")
@click.option(
    "--report",
    "report_file",
    type=click.File("r"),
    default=None,
    help="Enqueue nothing: print a table of the outcomes of the jobs saved in FILE by --save.",
)
def demo(config_module: str, url: str | None, save: str | None, report_file: Any) -> None:
    """Enqueue a demo batch: one job per channel (meant for DRY_RUN)."""
    from rq_ext.demo import enqueue_demo, outcomes, render_outcomes

    settings = _settings(config_module, url)
    connection = _connect(settings)
    with _talking_to(settings):
        if report_file is not None:
            click.echo(render_outcomes(outcomes(connection, _saved_jobs(report_file))))
            return
        jobs = enqueue_demo(connection)
    for queue, job_id in jobs:
        click.echo(f"enqueued {queue:<9} {job_id}")
    if save:
        with open(save, "w") as fh:
            json.dump(jobs, fh)
    if not settings.DRY_RUN:
        click.echo("note: DRY_RUN is off; demo jobs will try to send for real", err=True)


def _saved_jobs(fh: Any) -> list[tuple[str, str]]:
    try:
        return [(str(q), str(j)) for q, j in json.load(fh)]
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise CommandError(f"--report: not a file written by demo --save ({exc})") from None


def _worker_class(name: str, concurrency: int) -> tuple[type, dict[str, Any]]:
    from rq_ext.concurrent import FusionConcurrentWorker
    from rq_ext.worker import FusionSimpleWorker, FusionWorker

    if name == "concurrent":
        return FusionConcurrentWorker, {"concurrency": concurrency}
    if name == "async":
        from rq_ext.eventloop import FusionAsyncWorker

        return FusionAsyncWorker, {"concurrency": concurrency}
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
