"""Structured logs, Elasticsearch shipping, Sentry, Prometheus metrics, health, systemd notify."""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from werkzeug import Request, Response

from rq_ext import enqueue
from tests.conftest import ROOT, free_port, start_worker_process, wait_for, worker_env
from wrappers.elastic import ElasticsearchHandler
from wrappers.logger import add_handler

PHONE, EMAIL = "+919812345678", "asha.patient@example.com"


def bulk_handler(received: list, delay: float = 0.0):
    def handle(request: Request) -> Response:
        if delay:
            time.sleep(delay)
        lines = [json.loads(line) for line in request.get_data(as_text=True).splitlines() if line.strip()]
        received.extend(lines)
        items = [{"index": {"status": 201}} for _ in lines[::2]]
        return Response(
            json.dumps({"errors": False, "took": 1, "items": items}),
            status=200,
            headers={"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"},
        )

    return handle


def run_subprocess_worker(redis_url: str, *args: str, **env) -> str:
    proc = start_worker_process(redis_url, "--burst", *args, **env)
    assert proc.wait(timeout=60) == 0
    with open(proc.log_path) as fh:  # type: ignore[attr-defined]
        return fh.read()


def test_log_lines_are_json_with_job_fields(conn, settings, redis_server):
    job = enqueue("sms", "tests.jobs.record", {"name": "x", "to": PHONE}, connection=conn)
    output = run_subprocess_worker(redis_server.url, "--customq", "sms")
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    (event,) = [r for r in records if r.get("event") == "job"]
    assert event["job_id"] == job.id and event["queue"] == "sms" and event["outcome"] == "finished"
    assert event["duration"] >= 0 and event["attempt"] == 1 and "worker" in event
    assert PHONE not in output


def test_text_log_format(conn, settings, redis_server):
    enqueue("sms", "tests.jobs.record", {"name": "x"}, connection=conn)
    output = run_subprocess_worker(redis_server.url, "--customq", "sms", "--log-format", "text")
    assert "outcome=finished" in output and not output.lstrip().startswith("{")


def test_elasticsearch_receives_job_events(conn, settings, run_worker, httpserver, caplog):
    caplog.set_level(logging.INFO)
    received: list = []
    httpserver.expect_request("/_bulk").respond_with_handler(bulk_handler(received))
    handler = add_handler(ElasticsearchHandler(httpserver.url_for("/").rstrip("/"), interval=0.2))
    try:
        for i in range(3):
            enqueue("sms", "tests.jobs.record", {"name": f"j{i}", "to": PHONE}, connection=conn)
        run_worker(["sms"])
        wait_for(lambda: handler.shipped >= 3, timeout=10)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    actions, docs = received[::2], received[1::2]
    assert all(a["index"]["_index"] == time.strftime("fusion-worker-%Y.%m.%d", time.gmtime()) for a in actions)
    events = [d for d in docs if d.get("event", {}).get("dataset") == "fusion.job"]
    # Elastic Common Schema: Kibana's defaults find time, level, logger, service and outcome
    assert all(d["ecs"]["version"] and d["@timestamp"] and d["log"]["level"] for d in events)
    assert {d["event"]["outcome"] for d in events} == {"success"} and all(d["event"]["duration"] >= 0 for d in events)
    assert len(events) == 3 and {d["outcome"] for d in events} == {"finished"}
    assert all("@timestamp" in d and d["queue"] == "sms" for d in events)
    assert PHONE not in json.dumps(received)
    assert handler.dropped == 0


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_elasticsearch_down_or_slow_never_blocks_jobs(conn, settings, run_worker, httpserver, mode, caplog):
    caplog.set_level(logging.INFO)
    received: list = []
    if mode == "down":
        url = f"http://127.0.0.1:{free_port()}"
    else:
        httpserver.expect_request("/_bulk").respond_with_handler(bulk_handler(received, delay=3))
        url = httpserver.url_for("/").rstrip("/")
    # A first bulk goes out after 10 ms and hangs (slow) or fails (down); the buffer of 5 then
    # overflows, however fast the 40 jobs run.
    handler = add_handler(ElasticsearchHandler(url, interval=0.01, attempts=2, capacity=5))
    try:
        jobs = [
            enqueue("sms", "tests.jobs.record", {"name": str(i), "sleep": 0.005}, connection=conn) for i in range(40)
        ]
        started = time.monotonic()
        run_worker(["sms"])
        elapsed = time.monotonic() - started
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert all(conn.get(f"runs:{j.id}") == b"1" for j in jobs)
    assert elapsed < 3, f"jobs were held up by Elasticsearch ({elapsed:.1f}s)"
    assert handler.dropped > 0  # buffer of 5 overflowed, or the bulk failed: counted


def test_sentry_gets_final_failure_without_payload(conn, settings, redis_server, httpserver):
    envelopes: list = []

    def collect(request: Request) -> Response:
        body = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        envelopes.append(body.decode("utf-8", "replace"))
        return Response("{}", status=200)

    httpserver.expect_request("/api/1/envelope/").respond_with_handler(collect)
    dsn = f"http://public@127.0.0.1:{httpserver.port}/1"
    enqueue(
        "sms",
        "tests.jobs.crash",
        {"to": PHONE, "email": EMAIL, "message": "HbA1c 9.1"},
        connection=conn,
        job_id="crash-1",
    )
    enqueue("sms", "tests.jobs.transient", {"to": PHONE}, connection=conn, job_id="retry-1")
    run_subprocess_worker(redis_server.url, "--customq", "sms", SENTRY_DSN=dsn)
    wait_for(lambda: envelopes, timeout=10)
    everything = "\n".join(envelopes)
    assert "RuntimeError" in everything and "crash-1" in everything
    assert "retry-1" not in everything  # a retried failure is not reported
    for secret in (PHONE, "9812345678", EMAIL, "HbA1c"):
        assert secret not in everything


def test_metrics_endpoint(conn, settings, run_worker):
    from rq_ext.metrics import serve

    port = free_port()
    serve(port, conn, addr="127.0.0.1")
    enqueue("sms", "tests.jobs.record", {"name": "m"}, connection=conn)
    enqueue("email", "tests.jobs.record", {"name": "waiting"}, connection=conn)
    run_worker(["sms"])
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'fusion_jobs_total{channel="other",gateway="",outcome="finished",queue="sms"}' in text
    assert 'fusion_queue_depth{queue="email"} 1.0' in text
    assert "fusion_job_duration_seconds_bucket" in text and "fusion_job_queue_wait_seconds_count" in text
    assert "fusion_jobs_in_flight" in text and "fusion_recovered_jobs_total" in text
    assert "fusion_callback_failures_total" in text and "fusion_log_records_dropped_total" in text


def test_health_command(conn, settings, redis_server):
    def health() -> int:
        return subprocess.run(
            [os.sys.executable, str(ROOT / "run_worker.py"), "health"],
            cwd=ROOT,
            env=worker_env(redis_server.url),
            capture_output=True,
            timeout=30,
        ).returncode

    assert health() == 1
    proc = start_worker_process(redis_server.url, "--customq", "sms")
    try:
        wait_for(lambda: health() == 0, timeout=20, interval=0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    bad = subprocess.run(
        [os.sys.executable, str(ROOT / "run_worker.py"), "health"],
        cwd=ROOT,
        env=worker_env("redis://127.0.0.1:1/0"),
        capture_output=True,
        timeout=30,
    )
    assert bad.returncode == 1


def test_systemd_ready_and_watchdog(conn, settings, redis_server, tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(15)
    proc = start_worker_process(redis_server.url, "--customq", "sms", NOTIFY_SOCKET=path, WATCHDOG_USEC=2_000_000)
    try:
        messages = {sock.recv(4096).decode().split("\n")[0] for _ in range(2)}
        assert messages == {"READY=1", "WATCHDOG=1"}
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        rest = []
        sock.settimeout(1)
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except OSError:
            pass
        assert any(m.startswith("STOPPING=1") for m in rest)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_file_verifies(tmp_path):
    unit = tmp_path / "fusion-worker@.service"
    text = (ROOT / "deploy/systemd/fusion-worker@.service").read_text()
    unit.write_text(
        text.replace("/opt/fusion-worker/.venv/bin/python", "/bin/true")
        .replace("User=fusion\n", "")
        .replace("Group=fusion\n", "")
    )
    result = subprocess.run(["systemd-analyze", "verify", f"{unit}"], capture_output=True, text=True)
    assert "fusion-worker" not in result.stderr or result.returncode == 0, result.stderr
