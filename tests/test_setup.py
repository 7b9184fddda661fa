"""The set-up scripts behind ``make run``: ``$REDIS_URL`` when set, else this checkout's own private
redis-server, never a Redis merely found on localhost; the demo's outcome table; the Procfile."""

from __future__ import annotations

import os
import shlex
import subprocess
import time

import pytest
import redis

from tests.conftest import ROOT, free_port
from tests.redis_procs import RedisProc


def script_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CRELIO_DEPLOYMENT_MODE")}
    env.update(FUSION_RUN_DIR=str(tmp_path / "run"), **extra)
    return env


def ensure_redis(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    script = str(ROOT / "scripts/ensure-redis.sh")
    return subprocess.run([script], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def stop_private(tmp_path) -> None:
    pidfile = tmp_path / "run" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text()), 15)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture
def decoy(tmp_path):
    """Somebody else's Redis on loopback, holding a real job."""
    server = RedisProc(tmp_path / "decoy").start()
    client = redis.Redis(port=server.port)
    client.zadd("rq:queue:sms", {"real-job": 1})
    client.hset("rq:job:real-job", mapping={"status": "queued"})
    yield server, client
    server.stop(kill=True)


def test_ensure_redis_prefers_redis_url(tmp_path):
    out = ensure_redis({**script_env(tmp_path), "REDIS_URL": "redis://example.invalid:1/3"}, timeout=30)
    assert out.stdout.strip() == "redis://example.invalid:1/3"


def test_ensure_redis_starts_a_private_server_when_nothing_answers(tmp_path):
    port = free_port()
    env = script_env(tmp_path, FUSION_LOCAL_REDIS_PORT="1", FUSION_PRIVATE_REDIS_PORT=str(port))
    out = ensure_redis(env)
    try:
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"redis://127.0.0.1:{port}/0"
        assert redis.Redis(port=port).ping()
        again = ensure_redis(env, timeout=30)
        assert again.stdout.strip() == f"redis://127.0.0.1:{port}/0"  # reused, not started twice
        assert "reusing" in again.stderr
    finally:
        redis.Redis(port=port).shutdown(nosave=True)


def test_a_foreign_redis_on_the_private_port_is_refused(tmp_path, decoy):
    server, client = decoy
    out = ensure_redis(script_env(tmp_path, FUSION_PRIVATE_REDIS_PORT=str(server.port)), timeout=30)
    assert out.returncode == 1 and out.stdout == ""
    assert "not the private redis-server of make run" in out.stderr
    assert client.zcard("rq:queue:sms") == 1


def test_make_run_demo_never_drains_a_redis_it_found(tmp_path, decoy):
    """The old script used any Redis answering on localhost:6379 (FUSION_LOCAL_REDIS_PORT) and
    the demo worker drained its real jobs; now the demo runs on its own private Redis."""
    server, client = decoy
    port = free_port()
    env = script_env(tmp_path, FUSION_LOCAL_REDIS_PORT=str(server.port), FUSION_PRIVATE_REDIS_PORT=str(port))
    try:
        out = subprocess.run(
            [str(ROOT / "scripts/run-demo.sh")], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
        )
    finally:
        stop_private(tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert client.zcard("rq:queue:sms") == 1 and client.dbsize() == 2  # untouched
    assert "starting a private redis-server" in out.stderr
    table = out.stdout[out.stdout.index("==> demo jobs and their outcomes") :]
    for queue in ("sms", "email", "pn", "webhook", "whatsapp", "scheduler"):
        assert any(line.startswith(queue) and " finished " in line for line in table.splitlines()), table
    assert "6 of 6 demo job(s) finished" in table


def procfile_command() -> str:
    (line,) = [ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("worker:")]
    return line.split(":", 1)[1].strip()


@pytest.mark.parametrize("mode, dry_run", [(None, "on"), ("TEST", "off")])
def test_procfile_takes_the_mode_from_the_environment(redis_server, tmp_path, mode, dry_run):
    env = script_env(tmp_path, REDIS_URL=redis_server.url, PATH=f"{ROOT / '.venv/bin'}:{os.environ['PATH']}")
    env.pop("DRY_RUN", None)
    env["JOB_FUNCTION_ALLOWLIST"] = "tasks."
    if mode:
        env["CRELIO_DEPLOYMENT_MODE"] = mode
    command = procfile_command() + " --burst --log-format text"
    started = time.monotonic()
    out = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"mode={mode or 'LOCAL'} zone=IN" in out.stderr and f"DRY_RUN={dry_run}" in out.stderr
    assert time.monotonic() - started < 60
    assert shlex.split(procfile_command())[-7:] == [
        "python",
        "run_worker.py",
        "worker",
        "-c",
        "instance",
        "--customq",
        "all",
    ]
