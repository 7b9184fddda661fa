"""The command line: worker options, info, enqueue, requeue, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rq.job import Job

from rq_ext import contract, enqueue
from tests.conftest import ROOT, worker_env


def cli(redis_url: str, *args: str, stdin: str | None = None, **env) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run_worker.py"), *args],
        cwd=ROOT,
        input=stdin,
        env=worker_env(redis_url, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [[], ["worker"], ["info"], ["enqueue"], ["requeue"], ["demo"]])
def test_help_on_every_command(redis_server, command):
    result = cli(redis_server.url, *command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_worker_help_lists_seed_options(redis_server):
    out = cli(redis_server.url, "worker", "--help").stdout
    for option in [
        "-c, --config",
        "--customq",
        "-b, --burst",
        "-n, --name",
        "--logging_level",
        "-v, --verbose",
        "-q, --quiet",
        "--results-ttl",
        "--worker-ttl",
    ]:
        assert option in out


def test_bad_option_is_one_line_error(redis_server):
    result = cli(redis_server.url, "worker", "--no-such-option")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error:")
    assert "Traceback" not in result.stderr


def test_unreachable_redis_is_one_line_error(redis_server):
    for command in (["worker", "--burst"], ["info"]):
        result = cli("redis://127.0.0.1:1/0", *command)
        assert result.returncode == 1
        assert result.stderr.strip().startswith("error: cannot reach Redis")
        assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_bad_setting_is_one_line_error(redis_server):
    result = cli(redis_server.url, "worker", "--burst", MAINTENANCE_INTERVAL="often")
    assert result.returncode == 2 and "MAINTENANCE_INTERVAL" in result.stderr and "Traceback" not in result.stderr


def test_enqueue_then_worker_burst(conn, redis_server, tmp_path):
    payload = tmp_path / "task.json"
    payload.write_text(json.dumps({"name": "cli"}))
    result = cli(
        redis_server.url,
        "enqueue",
        "sms",
        "--priority",
        "5",
        "--payload-file",
        str(payload),
        "--func",
        "tests.jobs.record",
        "--job-id",
        "cli-1",
    )
    assert result.returncode == 0 and result.stdout.strip() == "cli-1"
    assert conn.zscore("rq:queue:sms", "cli-1") == 5
    result = cli(redis_server.url, "worker", "-c", "instance", "--customq", "sms", "--burst", "-n", "w-cli")
    assert result.returncode == 0, result.stderr
    assert Job.fetch("cli-1", connection=conn).get_status() == "finished"


def test_enqueue_from_stdin_and_delay(conn, redis_server):
    result = cli(
        redis_server.url,
        "enqueue",
        "email",
        "--payload-file",
        "-",
        "--delay",
        "60",
        stdin=json.dumps({"payload": {"task": 2}}),
    )
    job_id = result.stdout.strip()
    assert conn.zscore(contract.SCHEDULER_SET, job_id) is not None


def test_enqueue_bad_json(redis_server):
    result = cli(redis_server.url, "enqueue", "sms", "--payload-file", "-", stdin="{not json")
    assert result.returncode == 1 and "not valid JSON" in result.stderr


def test_info_shows_depth_and_failed(conn, settings, redis_server):
    enqueue("sms", "tests.jobs.record", {}, connection=conn)
    enqueue("sms", "tests.jobs.record", {}, connection=conn)
    conn.zadd("rq:failed:email", {"x": 1})
    result = cli(redis_server.url, "info", "--json")
    snap = json.loads(result.stdout)
    by_name = {q["name"]: q for q in snap["queues"]}
    assert by_name["sms"]["depth"] == 2 and by_name["sms"]["oldest_age"] is not None
    assert by_name["email"]["failed"] == 1
    text = cli(redis_server.url, "info").stdout
    assert "sms" in text and "depth" in text


def test_requeue_puts_failed_jobs_back_with_priority(conn, settings, run_worker, redis_server):
    enqueue("sms", "tests.jobs.crash", {}, priority=8, connection=conn, job_id="rq-1")
    run_worker(["sms"])
    assert conn.zscore("rq:failed:sms", "rq-1") is not None
    result = cli(redis_server.url, "requeue", "sms")
    assert result.stdout.strip() == "requeued 1 job(s)"
    assert conn.zscore("rq:queue:sms", "rq-1") == 8
    assert conn.zscore("rq:failed:sms", "rq-1") is None


def test_demo_then_dry_run_worker_processes_every_channel(conn, redis_server):
    assert cli(redis_server.url, "demo", DRY_RUN="1").returncode == 0
    result = cli(redis_server.url, "worker", "--customq", "all", "--burst", DRY_RUN="1", WEBHOOK_WHITELIST="^https?://")
    assert result.returncode == 0
    for channel in ("sms", "email", "push_notification", "webhook", "whatsapp"):
        assert f"DRY_RUN {channel}" in result.stderr
    assert "+919876543210" not in result.stderr and "patient@example.com" not in result.stderr
    assert sum(conn.zcard(f"rq:failed:{q}") for q in ("sms", "email", "pn", "webhook", "whatsapp")) == 0
