"""The ``dashboard`` and ``doctor`` commands on the CLI, and what rq's own CLI does to a
priority queue (the claims of docs/dashboard.md that the doctor tests do not cover)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rq_ext import enqueue
from rq_ext.cli import main

RQ = str(Path(sys.executable).parent / "rq")


def test_commands_are_registered(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "dashboard" in out and "doctor" in out
    assert main(["dashboard", "--help"]) == 0
    assert "--host" in capsys.readouterr().out
    assert main(["dashboard", "--port", "0"]) == 2
    assert "error:" in capsys.readouterr().err


def test_dashboard_reports_an_unreachable_redis(capsys):
    assert main(["dashboard", "-u", "redis://127.0.0.1:9/0"]) == 1
    assert "cannot reach Redis" in capsys.readouterr().err


def _rq(redis_server, *args):
    return subprocess.run([RQ, *args, "-u", redis_server.url], capture_output=True, text=True, timeout=60)


def test_rq_info_and_empty_fail_without_changing_a_priority_queue_and_info_w_suspend_work(conn, settings, redis_server):
    jobs = [enqueue("sms", "tests.jobs.record", {"name": str(i)}, priority=i, connection=conn) for i in range(3)]
    before = conn.zrange("rq:queue:sms", 0, -1, withscores=True)
    for args in (("info",), ("info", "--only-queues"), ("empty", "sms")):
        result = _rq(redis_server, *args)
        assert result.returncode != 0 and "WRONGTYPE" in result.stderr, args
    assert conn.zrange("rq:queue:sms", 0, -1, withscores=True) == before
    assert all(conn.exists(j.key) for j in jobs)
    assert _rq(redis_server, "info", "-W").returncode == 0
    assert _rq(redis_server, "suspend").returncode == 0 and conn.exists("rq:suspended")
    assert _rq(redis_server, "resume").returncode == 0 and not conn.exists("rq:suspended")
