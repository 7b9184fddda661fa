"""Faults survived: Redis restarts and failover, TLS and ACLs, JSON serializer, slow or dead
downstream services."""

from __future__ import annotations

import json
import os
import pickle
import time
import zlib
from pathlib import Path

import pytest
import redis
from rq.job import Job
from werkzeug import Response

from rq_ext import contract, enqueue, outbox
from tests.channels.certs import make_ca
from tests.conftest import start_worker_process, wait_for
from tests.redis_procs import RedisProc


def statuses(conn, jobs) -> list[str]:
    return [(conn.hget(j.key, "status") or b"").decode() for j in jobs]


def stop_worker(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except Exception:
            proc.kill()


def test_json_serializer_runs_json_jobs_and_refuses_pickle(conn, settings_factory, run_worker, httpserver):
    from rq.serializers import JSONSerializer

    settings_factory(SERIALIZER="json")
    httpserver.expect_request("/failed").respond_with_data("ok")
    job = enqueue("sms", "tests.jobs.record", {"name": "json"}, connection=conn)
    assert job.serializer is JSONSerializer
    marker = Path("/tmp/fusion-pickle-ran")
    marker.unlink(missing_ok=True)

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    conn.hset(
        "rq:job:evil",
        mapping={
            "status": "queued",
            "origin": "sms",
            "failed_task_handler": httpserver.url_for("/failed"),
            "data": zlib.compress(pickle.dumps(("tests.jobs.record", None, [Evil()], {}))),
        },
    )
    conn.zadd("rq:queue:sms", {"evil": 100})
    run_worker(["sms"], serializer=JSONSerializer)
    assert Job.fetch(job.id, connection=conn, serializer=JSONSerializer).get_status() == "finished"
    assert conn.zscore("rq:failed:sms", "evil") is not None
    assert not marker.exists()
    ((request, _),) = [(r, x) for r, x in httpserver.log if r.path == "/failed"]
    assert "could not be decoded" in request.form["failure_trace"]


def test_redis_restart_with_aof_loses_no_job(tmp_path, settings_factory):
    server = RedisProc(tmp_path / "aof", "--appendonly", "yes", "--appendfsync", "always").start()
    url = f"redis://127.0.0.1:{server.port}/0"
    settings_factory(REDIS_URL=url)
    conn = redis.Redis(port=server.port)
    jobs = [enqueue("sms", "tests.jobs.record", {"name": str(i), "sleep": 0.05}, connection=conn) for i in range(80)]
    workers = [start_worker_process(url, "--customq", "sms", "--worker-class", cls) for cls in ("simple", "fork")]
    try:
        wait_for(lambda: len(conn.keys("runs:*")) >= 10, timeout=30)
        server.stop()  # SIGTERM: Redis writes its AOF and exits
        time.sleep(10)
        assert all(w.poll() is None for w in workers), "workers must ride out the outage"
        server.start()
        wait_for(lambda: set(statuses(conn, jobs)) == {"finished"}, timeout=120, interval=0.5)
        assert all(int(conn.get(f"runs:{j.id}") or 0) >= 1 for j in jobs)
        assert conn.zcard(contract.CLAIMS) == 0 and conn.zcard("rq:failed:sms") == 0
    finally:
        for w in workers:
            stop_worker(w)
        server.stop()


@pytest.fixture
def tls_redis(tmp_path):
    ca = make_ca(tmp_path)
    cert, key = ca.issue(tmp_path, "redis", ["127.0.0.1", "localhost"])
    port = __import__("tests.conftest", fromlist=["free_port"]).free_port()
    ctx = {"ssl": True, "ssl_ca_certs": str(ca.path), "username": "fusion", "password": "s3cret-acl"}
    server = RedisProc(
        tmp_path / "tls",
        "--port",
        "0",
        "--tls-port",
        str(port),
        "--tls-cert-file",
        str(cert),
        "--tls-key-file",
        str(key),
        "--tls-ca-cert-file",
        str(ca.path),
        "--tls-auth-clients",
        "no",
        "--user",
        "default",
        "off",
        "--user",
        "fusion",
        "on",
        ">s3cret-acl",
        "~*",
        "&*",
        "+@all",
        port=port,
    )
    server.args = list(server.args)
    server.start(ping=lambda: redis.Redis(port=port, **ctx, socket_connect_timeout=0.3).ping())
    yield server, port, ca.path, ctx
    server.stop()


def test_redis_over_tls_with_acl_user(tls_redis, settings_factory):
    _server, port, ca_path, ctx = tls_redis
    url = f"rediss://fusion:s3cret-acl@127.0.0.1:{port}/0?ssl_ca_certs={ca_path}&ssl_cert_reqs=required"
    settings_factory(REDIS_URL=url)
    conn = redis.Redis(port=port, **ctx)
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, ssl=True, ssl_ca_certs=str(ca_path), username="fusion", password="wrong").ping()
    job = enqueue("sms", "tests.jobs.record", {"name": "tls"}, connection=conn)
    proc = start_worker_process(url, "--customq", "sms", "--burst")
    assert proc.wait(timeout=60) == 0, Path(proc.log_path).read_text()[-2000:]
    assert Job.fetch(job.id, connection=conn).get_status() == "finished"


def test_sentinel_failover(tmp_path, settings_factory):
    master = RedisProc(tmp_path / "master").start()
    replica = RedisProc(tmp_path / "replica", "--replicaof", "127.0.0.1", str(master.port)).start()
    conf = (
        f"sentinel monitor fusion 127.0.0.1 {master.port} 2\nsentinel down-after-milliseconds fusion 1000\n"
        "sentinel failover-timeout fusion 5000\nsentinel parallel-syncs fusion 1\n"
    )
    sentinels = [RedisProc(tmp_path / f"s{i}", sentinel_conf=conf).start() for i in range(3)]
    addresses = ",".join(f"127.0.0.1:{s.port}" for s in sentinels)
    env = {"REDIS_SENTINELS": addresses, "REDIS_SENTINEL_MASTER": "fusion", "REDIS_OUTAGE_GRACE": 120}
    from config import get_settings
    from rq_ext.connection import redis_from_settings

    settings_factory(REDIS_SENTINELS=addresses.split(","), REDIS_SENTINEL_MASTER="fusion")
    conn = redis_from_settings(get_settings())
    wait_for(lambda: redis.Redis(port=replica.port).info("replication")["master_link_status"] == "up", timeout=20)
    jobs = [enqueue("sms", "tests.jobs.record", {"name": str(i), "sleep": 0.05}, connection=conn) for i in range(60)]
    conn.wait(1, 2000)
    workers = [
        start_worker_process("redis://127.0.0.1:1/0", "--customq", "sms", "--worker-class", "simple", **env)
        for _ in range(2)
    ]
    try:
        wait_for(lambda: len(conn.keys("runs:*")) >= 5, timeout=30)
        conn.wait(1, 2000)
        master.stop(kill=True)

        def all_finished() -> bool:
            try:
                return set(statuses(conn, jobs)) == {"finished"}
            except (redis.ConnectionError, redis.TimeoutError):
                return False  # the sentinels have not elected the new master yet

        wait_for(all_finished, timeout=120, interval=0.5)
        assert redis.Redis(port=replica.port).info("replication")["role"] == "master"
    finally:
        for w in workers:
            stop_worker(w)
        for s in [*sentinels, replica, master]:
            s.stop(kill=True)


def test_slow_retry_server_falls_back_to_local_schedule(conn, settings_factory, run_worker, httpserver):
    settings_factory(FUSION_SERVER=httpserver.url_for("/").rstrip("/"), RETRY_TASK_TIMEOUT=0.5)
    httpserver.expect_request("/retryTask/").respond_with_handler(lambda r: (time.sleep(2), Response("late"))[1])
    job = enqueue("sms", "tests.jobs.transient", {}, connection=conn)
    started = time.monotonic()
    run_worker(["sms"])
    assert time.monotonic() - started < 5
    assert conn.zscore(contract.SCHEDULER_SET, job.id) is not None


@pytest.mark.parametrize("answer", ["slow", "garbage", "down"])
def test_callback_receiver_faults_never_change_outcome(conn, settings_factory, run_worker, httpserver, answer):
    settings_factory(CALLBACK_TIMEOUT=0.5)
    if answer == "slow":
        httpserver.expect_request("/done").respond_with_handler(lambda r: (time.sleep(2), Response("late"))[1])
        url = httpserver.url_for("/done")
    elif answer == "garbage":
        httpserver.expect_request("/done").respond_with_data(b"\x00\xff garbage", status=502)
        url = httpserver.url_for("/done")
    else:
        url = "http://127.0.0.1:9/done"
    jobs = [
        enqueue("sms", "tests.jobs.record", {"name": str(i)}, connection=conn, success_task_handler=url)
        for i in range(3)
    ]
    started = time.monotonic()
    run_worker(["sms"])
    assert time.monotonic() - started < 15
    assert statuses(conn, jobs) == ["finished"] * 3
    # none delivered: each waits in the outbox for its next try (or was given up, counted)
    pending = {entry.job_id for entry, _ in outbox.entries(conn)}
    dead = {json.loads(raw)["job_id"] for raw in conn.lrange(contract.OUTBOX_DEAD, 0, -1)}
    assert pending | dead == {job.id for job in jobs}


def test_sentry_down_never_fails_jobs(conn, settings, redis_server):
    job = enqueue("sms", "tests.jobs.crash", {}, connection=conn)
    ok = enqueue("sms", "tests.jobs.record", {"name": "fine"}, connection=conn)
    proc = start_worker_process(
        redis_server.url, "--customq", "sms", "--burst", SENTRY_DSN="http://public@127.0.0.1:9/1"
    )
    assert proc.wait(timeout=60) == 0
    assert statuses(conn, [job, ok]) == ["failed", "finished"]


@pytest.mark.parametrize("cls", ["fork", "simple"])
def test_hanging_send_is_cut_at_job_timeout_and_retried(conn, settings, redis_server, cls):
    hung = enqueue("sms", "tests.jobs.record", {"name": "hang", "sleep": 60}, connection=conn, timeout=1)
    after = enqueue("sms", "tests.jobs.record", {"name": "after"}, priority=-1, connection=conn)
    proc = start_worker_process(redis_server.url, "--customq", "sms", "--burst", "--worker-class", cls)
    assert proc.wait(timeout=60) == 0
    assert conn.hget(hung.key, "status") == b"scheduled" and conn.hget(hung.key, "retryCount") == b"1"
    assert b"timed out" in (conn.hget(hung.key, "last_failure") or b"")
    assert conn.hget(after.key, "status") == b"finished"
