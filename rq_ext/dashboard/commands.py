"""``run_worker.py dashboard`` and ``run_worker.py doctor``, registered on the CLI group."""

from __future__ import annotations

import json

import click

from rq_ext.cli_common import _connect, _settings, config_option, url_option


@click.command()
@config_option
@url_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=9181, show_default=True, help="Port to listen on.")
def dashboard(config_module: str, url: str | None, host: str, port: int) -> None:
    """Serve the web dashboard (read-only unless DASHBOARD_TOKEN is set)."""
    from rq_ext.dashboard.app import serve
    from wrappers.logger import setup_logging

    settings = _settings(config_module, url)
    setup_logging(settings.LOG_LEVEL.upper(), "text")
    connection = _connect(settings)
    mode = "actions need DASHBOARD_TOKEN" if settings.DASHBOARD_TOKEN else "read-only"
    click.echo(f"dashboard on http://{host}:{port}/ ({mode})")
    serve(connection, settings, host, port)


@click.command()
@config_option
@url_option
@click.option("--fix", is_flag=True, help="Repair what can be repaired (no job is dropped).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--orphan-age",
    type=float,
    default=None,
    help="Seconds before a job in no queue counts as orphaned (default DOCTOR_ORPHAN_AGE).",
)
def doctor(config_module: str, url: str | None, fix: bool, as_json: bool, orphan_age: float | None) -> int:
    """Find (and with --fix repair) wrong queue types, compact keys, orphaned jobs and stale
    workers; report queues no live worker serves. Exit 0 when healthy, 1 when something was found."""
    from rq_ext import doctor as checks

    connection = _connect(_settings(config_module, url))
    report = checks.diagnose(connection, fix=fix, orphan_age=orphan_age)
    click.echo(json.dumps(report.as_dict()) if as_json else checks.render(report, fix))
    return 0 if report.healthy else 1


def register(group: click.Group) -> None:
    group.add_command(dashboard)
    group.add_command(doctor)
