"""The CLI as an operator meets it (issue 14): run as a subprocess against a real Redis, a socket
that accepts and never answers, a service that answers garbage, a TLS/plain mix-up... Every
failure is one ``error:`` line, within seconds, naming the Redis with its password masked."""

from __future__ import annotations

import json
import math
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import redis

import config
from config import ConfigError, load_settings
from rq_ext.connection import masked_url
from tests.channels.certs import make_ca
from tests.conftest import ROOT, free_port, worker_env
from tests.redis_procs import RedisProc

SECRET = "pa55-not-in-output"
COMMANDS = [
    ["info"],
    ["health"],
    ["enqueue", "sms", "--payload-file", "-"],
    ["requeue", "sms"],
    ["demo"],
    ["worker", "--burst"],
]


def run(
    url: str, *args: str, stdin: str = "{}", timeout: float = 60, **env: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run_worker.py"), *args],
        cwd=ROOT,
        input=stdin,
        env=worker_env(url, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], *needles: str, code: int = 1) -> None:
    # a worker may have logged (JSON lines) before it failed: the rest is one error line
    err = "\n".join(ln for ln in result.stderr.strip().splitlines() if not ln.startswith("{")).strip()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert err.startswith("error:") and "\n" not in err, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


class FakeServer:
    """A TCP service on loopback that accepts connections and either never answers or answers garbage."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(client)
            if self.answer is not None:
                try:
                    client.recv(1024)
                    client.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        for client in self.held:
            client.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[FakeServer]:
    server = FakeServer(None)
    yield server
    server.close()


@pytest.fixture
def garbage() -> Iterator[FakeServer]:
    server = FakeServer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    yield server
    server.close()


# -- Redis that is silent, wrong or misconfigured ----------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_silent_redis_fails_within_seconds(silent, command):
    url = f"redis://:{SECRET}@127.0.0.1:{silent.port}/0"
    started = time.monotonic()
    result = run(url, *command, CLI_REDIS_TIMEOUT="1")
    elapsed = time.monotonic() - started
    assert_one_error_line(result, "cannot reach Redis", f"127.0.0.1:{silent.port}", "***", "Timeout")
    assert SECRET not in result.stderr + result.stdout
    assert elapsed < 8, f"{command[0]} took {elapsed:.1f}s on a silent Redis"


def test_default_cli_timeout_is_a_few_seconds(silent):
    started = time.monotonic()
    result = run(f"redis://127.0.0.1:{silent.port}/0", "info")
    assert_one_error_line(result, "cannot reach Redis")
    assert time.monotonic() - started < 3.0 + 4  # CLI_REDIS_TIMEOUT 3 s, plus the interpreter's start


@pytest.mark.parametrize("command", [["info"], ["enqueue", "sms", "--payload-file", "-"], ["worker", "--burst"]])
def test_garbage_answer_is_one_line(garbage, command):
    result = run(f"redis://127.0.0.1:{garbage.port}/0", *command, CLI_REDIS_TIMEOUT="2")
    assert_one_error_line(result, "does not speak the Redis protocol")


def test_database_index_out_of_range(redis_server):
    url = redis_server.url.rsplit("/", 1)[0] + "/999"
    for command in (["info"], ["worker", "--burst"]):
        assert_one_error_line(run(url, *command), "DB index is out of range", "/999")


def test_wrong_password_is_one_line(conn, redis_server):
    conn.config_set("requirepass", "the-right-one")
    try:
        result = run(f"redis://:{SECRET}@127.0.0.1:{redis_server.port}/0", "info")
    finally:
        redis.Redis(port=redis_server.port, password="the-right-one").config_set("requirepass", "")
    assert_one_error_line(result, "cannot reach Redis", ":***@", "password")
    assert SECRET not in result.stderr


@pytest.fixture
def tls_redis(tmp_path) -> Iterator[tuple[int, str]]:
    ca = make_ca(tmp_path)
    cert, key = ca.issue(tmp_path, "redis", ["127.0.0.1", "localhost"])
    port = free_port()
    args = ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    args += ["--tls-ca-cert-file", str(ca.path), "--tls-auth-clients", "no"]
    server = RedisProc(tmp_path / "tls", *args, port=port)
    ctx = {"ssl": True, "ssl_ca_certs": str(ca.path)}
    server.start(ping=lambda: redis.Redis(port=port, **ctx, socket_connect_timeout=0.3).ping())
    yield port, str(ca.path)
    server.stop()


def test_plain_url_to_a_tls_redis(tls_redis):
    port, _ca = tls_redis
    started = time.monotonic()
    result = run(f"redis://127.0.0.1:{port}/0", "info", CLI_REDIS_TIMEOUT="2")
    assert_one_error_line(result, "cannot reach Redis", f"127.0.0.1:{port}")
    assert "TLS" in result.stderr or "Redis server?" in result.stderr
    assert time.monotonic() - started < 8


def test_tls_url_to_a_plain_redis(redis_server):
    started = time.monotonic()
    result = run(f"rediss://127.0.0.1:{redis_server.port}/0", "info", CLI_REDIS_TIMEOUT="2")
    assert_one_error_line(result, "cannot reach Redis", "rediss://", "TLS")
    assert time.monotonic() - started < 8


def test_tls_works_with_the_right_url(tls_redis):
    port, ca = tls_redis
    result = run(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}", "info", "--json")
    assert result.returncode == 0, result.stderr
    assert "queues" in json.loads(result.stdout)


def test_wrongtype_on_enqueue(conn, redis_server):
    conn.set("rq:queue:sms", "not a sorted set")
    result = run(redis_server.url, "enqueue", "sms", "--payload-file", "-", stdin="{}")
    assert_one_error_line(result, "WRONGTYPE", "Redis refused a command", "127.0.0.1")


def test_wrongtype_on_info(conn, redis_server):
    conn.set("rq:failed:sms", "a string")
    result = run(redis_server.url, "info")
    assert_one_error_line(result, "WRONGTYPE")


# -- worker options ---------------------------------------------------------------------------


def test_metrics_port_in_use(conn, redis_server):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run(redis_server.url, "worker", "--burst", "--customq", "sms", "--metrics-port", str(port))
    assert_one_error_line(result, f"--metrics-port {port}", "in use")


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_metrics_port_out_of_range(redis_server, port):
    result = run(redis_server.url, "worker", "--burst", "--metrics-port", port)
    assert_one_error_line(result, "--metrics-port", code=2)


@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_jobs_must_be_at_least_one(redis_server, value):
    result = run(redis_server.url, "worker", "--burst", "--max-jobs", value)
    assert_one_error_line(result, "--max-jobs", code=2)


@pytest.mark.parametrize("worker_class", ["fork", "simple", "concurrent"])
def test_duplicate_worker_name(conn, redis_server, worker_class):
    conn.hset("rq:worker:twin", mapping={"birth": "2026-01-01T00:00:00Z", "queues": "sms"})
    args = ["--burst", "--customq", "sms", "-n", "twin", "--worker-class", worker_class]
    result = run(redis_server.url, "worker", *args)
    assert_one_error_line(result, "There exists an active worker named 'twin'", "--name")


def test_start_banner_and_dry_run_warning(conn, redis_server):
    result = run(redis_server.url, "worker", "--burst", "--customq", "sms,email", "--log-format", "text", DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "starting: mode=" in ln]
    for part in ("INFO", "Fusion Worker 0.1.0", "mode=TEST", "zone=IN", "queues=sms,email", "worker_class=fork"):
        assert part in line, line
    assert "concurrency=1" in line and f"redis={redis_server.url}" in line and "DRY_RUN=on" in line
    assert any("WARNING" in ln and "nothing will be sent" in ln for ln in result.stderr.splitlines())


def test_banner_json_fields_and_no_warning_without_dry_run(conn, redis_server):
    result = run(
        redis_server.url, "worker", "--burst", "--worker-class", "concurrent", "--concurrency", "4", DRY_RUN="0"
    )
    records = [json.loads(ln) for ln in result.stderr.splitlines() if ln.startswith("{")]
    (start,) = [r for r in records if r.get("event") == "start"]
    assert start["details"]["worker_class"] == "concurrent" and start["details"]["concurrency"] == 4
    assert start["details"]["dry_run"] is False
    assert not any("nothing will be sent" in r["message"] for r in records)


def test_masked_url():
    assert masked_url("redis://:s3cret@h:6379/0") == "redis://:***@h:6379/0"
    assert masked_url("rediss://user:s3cret@h/2") == "rediss://user:***@h/2"
    assert masked_url("redis://h:6379/0") == "redis://h:6379/0"
    assert "s3cret" not in masked_url("unix:///run/redis.sock?db=0&password=s3cret")


# -- requeue and enqueue ----------------------------------------------------------------------


def test_requeue_unknown_job_id_is_an_error(conn, redis_server):
    result = run(redis_server.url, "requeue", "sms", "--job-id", "no-such-job")
    assert_one_error_line(result, "no-such-job", "failed registry")


def test_requeue_unknown_queue_is_an_error(conn, redis_server):
    result = run(redis_server.url, "requeue", "smss")
    assert_one_error_line(result, "unknown queue", "smss")


def test_requeue_known_failed_job(conn, redis_server):
    conn.hset("rq:job:f-1", mapping={"status": "failed", "origin": "sms"})
    conn.zadd("rq:failed:sms", {"f-1": time.time() + 3600})
    result = run(redis_server.url, "requeue", "sms", "--job-id", "f-1")
    assert result.returncode == 0 and result.stdout.strip() == "requeued 1 job(s)", result.stderr
    assert conn.zscore("rq:queue:sms", "f-1") is not None


def test_enqueue_without_a_live_worker_warns(conn, redis_server):
    result = run(redis_server.url, "enqueue", "sms", "--payload-file", "-", stdin="{}")
    assert result.returncode == 0 and result.stdout.strip()
    assert "warning: no live worker serves queue 'sms'" in result.stderr


# -- info --interval --------------------------------------------------------------------------


def wait_for_output(proc: subprocess.Popen[bytes], fd: int, needle: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    assert needle in seen, seen[-2000:]
    return seen


def test_info_interval_piped_exits_0_on_sigint(conn, redis_server):
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_worker.py"), "info", "--interval", "0.2"],
        cwd=ROOT,
        env=worker_env(redis_server.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        seen = wait_for_output(proc, proc.stdout.fileno(), b"worker(s)")
        seen += wait_for_output(proc, proc.stdout.fileno(), b"worker(s)")  # a second refresh
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert b"error" not in err.lower() and b"Traceback" not in err
    assert redis_server.url.encode() in seen


def test_info_interval_redraws_in_place_on_a_terminal(conn, redis_server):
    """On a pseudo-terminal the view is redrawn in place (cursor moved up, lines erased), with the
    time and the Redis URL (password masked); Ctrl-C exits 0 quietly."""
    url = f"redis://:{SECRET}@127.0.0.1:{redis_server.port}/0"
    conn.config_set("requirepass", SECRET)
    master, slave = pty.openpty()
    env = worker_env(url, TERM="xterm-256color", COLUMNS="120", LINES="40")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_worker.py"), "info", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    try:
        seen = wait_for_output(proc, master, b"worker(s)")
        seen += wait_for_output(proc, master, b"\x1b[2K", timeout=10)  # a redraw erases the old lines
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
        try:
            while select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)
        except OSError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
        redis.Redis(port=redis_server.port, password=SECRET).config_set("requirepass", "")
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text[-2000:]
    assert "error" not in text.lower() and "Traceback" not in text
    assert f"127.0.0.1:{redis_server.port}" in text and ":***@" in text and SECRET not in text
    assert time.strftime("%Y-%m-%d") in text
    assert "\x1b[1A" in text or "\x1b[A" in text  # cursor up: drawn over, not appended


def test_info_interval_must_be_positive(redis_server):
    assert_one_error_line(run(redis_server.url, "info", "--interval", "0"), "--interval", code=2)


# -- settings fail closed ---------------------------------------------------------------------


def numeric_settings() -> list[str]:
    return [name for name, kind in config._field_types().items() if kind in (int, float)]


def test_every_numeric_setting_has_a_bound():
    assert set(numeric_settings()) == set(config.NUMERIC_MINIMUMS)


@pytest.mark.parametrize("name", numeric_settings())
def test_numeric_settings_refuse_nonsense(name):
    low, inclusive = config.NUMERIC_MINIMUMS[name]
    bad = [low - 1] + ([] if inclusive else [low])
    if config._field_types()[name] is float:
        bad += [math.nan, math.inf]
    for value in bad:
        with pytest.raises(ConfigError, match=name):
            load_settings("instance", env={"CRELIO_DEPLOYMENT_MODE": "TEST", name: str(value)})
    if name != "RETRY_BACKOFF_BASE":  # its lower bound is open; a tiny value is allowed
        assert getattr(load_settings("instance", env={name: str(max(low, 0) + 1)}), name) == max(low, 0) + 1


def test_zero_is_refused_by_name_through_the_cli(redis_server):
    for name in ("CLAIM_LEASE", "CLI_REDIS_TIMEOUT", "PROVIDER_TIMEOUT", "OUTBOX_SENDERS"):
        result = run(redis_server.url, "worker", "--burst", **{name: "0"})
        assert_one_error_line(result, name, code=2)


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_webhook_whitelist_refuses_to_start(redis_server, value):
    result = run(redis_server.url, "worker", "--burst", WEBHOOK_WHITELIST=value)
    assert_one_error_line(result, "WEBHOOK_WHITELIST", "allow every URL", code=2)


def test_deny_all_whitelist_is_accepted():
    assert load_settings("instance", env={"WEBHOOK_WHITELIST": "(?!)"}).WEBHOOK_WHITELIST == "(?!)"
