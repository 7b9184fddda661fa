"""Faults along the outcome path, on every worker class, with real processes, a real Redis and
real HTTP servers: kill -9 at each step, Redis killed and restarted under load.

Every job must reach exactly one final outcome and every promised callback must arrive; a job
is sent twice only if it was in flight at a kill, and never after its provider accepted."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from rq_ext import contract, enqueue
from tests.conftest import start_worker_process, wait_for
from tests.fault_servers import Recorder, webhook_task
from tests.redis_procs import RedisProc
from tests.test_kill_under_load import kill_9
from tests.test_reliability import stop_worker

KINDS = {
    "fork": ["--worker-class", "fork"],
    "simple": ["--worker-class", "simple"],
    "concurrent": ["--worker-class", "concurrent", "--concurrency", "4"],
    "async": ["--worker-class", "async", "--concurrency", "4"],
}
#: Short leases so a killed worker's jobs come back within seconds.
FAST = {"CLAIM_LEASE": 2, "RECOVERY_INTERVAL": 0.5, "CALLBACK_TIMEOUT": 2, "RETRY_TASK_TIMEOUT": 2}


def stop(proc) -> None:
    if proc.poll() is None:
        stop_worker(proc)
    if proc.poll() is None:
        kill_9(proc)


def status(conn, job_id: str) -> str:
    return (conn.hget(contract.job_key(job_id), "status") or b"").decode()


def log_of(proc) -> str:
    with open(proc.log_path) as log:
        return log.read()


@pytest.fixture
def servers():
    provider, receiver = Recorder(), Recorder()
    yield provider, receiver
    provider.stop()
    receiver.stop()


# -- kill -9 at each step ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_kill_9_before_the_provider_answers(conn, settings, redis_server, servers, kind):
    provider, receiver = servers
    provider.hold = threading.Event()
    enqueue("webhook", "tasks.webhooks.send_webhook", webhook_task(provider, "k1"), connection=conn, job_id="k1",
            success_task_handler=receiver.url + "/done")  # fmt: skip
    worker = start_worker_process(redis_server.url, "--customq", "webhook", *KINDS[kind], **FAST)
    replacement = None
    try:
        assert provider.arrived.wait(20), log_of(worker)
        kill_9(worker)
        provider.hold.set()  # its answer goes to a dead socket
        replacement = start_worker_process(redis_server.url, "--customq", "webhook", *KINDS[kind], **FAST)
        wait_for(lambda: status(conn, "k1") == "finished" and receiver.callbacks(), timeout=40)
    finally:
        stop(replacement) if replacement else None
    assert 1 <= provider.jobs_sent()["k1"] <= 2  # in flight at the kill: a second send is allowed
    assert {c["job_id"] for c in receiver.callbacks()} == {"k1"}
    assert conn.zcard(contract.CLAIMS) == 0


@pytest.mark.parametrize("kind", list(KINDS))
def test_kill_9_after_the_provider_answered(conn, settings, redis_server, servers, kind):
    provider, receiver = servers
    task = {**webhook_task(provider, "k2"), "sleep_after": 30}
    enqueue("webhook", "tests.jobs.send_then_sleep", task, connection=conn, job_id="k2",
            success_task_handler=receiver.url + "/done")  # fmt: skip
    worker = start_worker_process(redis_server.url, "--customq", "webhook", *KINDS[kind], **FAST)
    replacement = None
    try:
        wait_for(lambda: provider.jobs_sent()["k2"] == 1 and conn.hlen(contract.LEDGER_PREFIX + "k2"), timeout=20)
        kill_9(worker)  # the provider accepted; the outcome is not written yet
        replacement = start_worker_process(redis_server.url, "--customq", "webhook", *KINDS[kind], **FAST)
        wait_for(lambda: status(conn, "k2") == "finished" and receiver.callbacks(), timeout=40)
    finally:
        stop(replacement) if replacement else None
    assert provider.jobs_sent()["k2"] == 1, "sent again after the provider accepted"
    assert int(conn.get("runs:k2")) == 2
    (callback,) = receiver.callbacks()
    assert callback["status"] == "finished" and callback["key"] == "k2:finished:0"


@pytest.mark.parametrize("kind", list(KINDS))
def test_kill_9_during_a_callbacks_backoff(conn, settings, redis_server, servers, kind):
    provider, receiver = servers
    receiver.first_statuses = [503]
    enqueue("webhook", "tasks.webhooks.send_webhook", webhook_task(provider, "k3"), connection=conn, job_id="k3",
            success_task_handler=receiver.url + "/done")  # fmt: skip
    env = {**FAST, "OUTBOX_BACKOFF_BASE": 4}
    worker = start_worker_process(redis_server.url, "--customq", "webhook", *KINDS[kind], **env)
    replacement = None
    try:
        wait_for(lambda: receiver.callbacks(), timeout=20)
        wait_for(lambda: status(conn, "k3") == "finished", timeout=10)
        kill_9(worker)  # the callback waits in its backoff
        assert conn.zcard(contract.OUTBOX_DUE) == 1
        replacement = start_worker_process(redis_server.url, "--customq", "webhook", *KINDS[kind], **env)
        wait_for(lambda: len(receiver.callbacks()) == 2, timeout=30)
        wait_for(lambda: conn.zcard(contract.OUTBOX_DUE) == 0, timeout=5)
    finally:
        stop(replacement) if replacement else None
    first, second = receiver.callbacks()
    assert first["key"] == second["key"] == "k3:finished:0"
    assert provider.jobs_sent()["k3"] == 1


@pytest.mark.parametrize("kind", list(KINDS))
def test_kill_9_during_a_hand_over(conn, settings, redis_server, servers, kind):
    server, _ = servers
    server.hold = threading.Event()
    enqueue("sms", "tests.jobs.transient", {}, connection=conn, job_id="k4")
    env = {**FAST, "FUSION_SERVER": server.url}
    worker = start_worker_process(redis_server.url, "--customq", "sms", *KINDS[kind], **env)
    replacement = None
    try:
        assert server.arrived.wait(20), log_of(worker)
        assert status(conn, "k4") == "scheduled" and conn.zscore(contract.AWAITING_RETRY, "k4") is not None
        kill_9(worker)  # mid-POST to /retryTask/
        server.hold.set()
        replacement = start_worker_process(redis_server.url, "--customq", "sms", *KINDS[kind], **env)
        wait_for(lambda: len(server.handovers()) >= 2 and conn.zcard(contract.OUTBOX_DUE) == 0, timeout=40)
    finally:
        stop(replacement) if replacement else None
    keys = {key for _, key in server.handovers()}
    assert keys == {"k4:retried:1"}, "the same hand-over, told apart by its key"
    assert conn.hget(contract.job_key("k4"), "retryCount") == b"1"
    assert conn.zscore(contract.AWAITING_RETRY, "k4") is not None


# -- Redis killed and restarted under load ------------------------------------------------------

LOAD = {
    "fork": (["--worker-class", "fork"], 2, 120, (0.05, 0.15)),
    "simple": (["--worker-class", "simple"], 2, 200, (0.05, 0.15)),
    "concurrent": (["--worker-class", "concurrent", "--concurrency", "32"], 1, 400, (0.05, 0.4)),
    "async": (["--worker-class", "async", "--concurrency", "64"], 1, 400, (0.05, 0.4)),
}


@pytest.mark.parametrize(
    "kind",
    [
        "fork",
        "simple",
        "concurrent",
        "async",
    ],
)
def test_redis_killed_and_restarted_twice_under_load(tmp_path, settings_factory, kind):
    args, processes, count, latency = LOAD[kind]
    server = RedisProc(tmp_path / "aof", "--appendonly", "yes", "--appendfsync", "always").start()
    url = f"redis://127.0.0.1:{server.port}/0"
    settings_factory(REDIS_URL=url)
    conn = redis.Redis(port=server.port)
    provider, receiver = Recorder(latency=latency), Recorder()
    ids = [f"r{i}" for i in range(count)]
    for job_id in ids:
        enqueue("webhook", "tasks.webhooks.send_webhook", webhook_task(provider, job_id), connection=conn,
                job_id=job_id, success_task_handler=receiver.url + "/done")  # fmt: skip
    env = {"CLAIM_LEASE": 10, "RECOVERY_INTERVAL": 2, "LOG_LEVEL": "WARNING"}
    workers = [start_worker_process(url, "--customq", "webhook", *args, **env) for _ in range(processes)]
    resumes = []
    try:
        for outage in (1, 2):
            wait_for(lambda o=outage: sum(provider.jobs_sent().values()) >= o * count // 3, timeout=120, interval=0.1)
            server.stop(kill=True)  # SIGKILL: what is not in the AOF is lost
            time.sleep(2)
            sent_before = sum(provider.jobs_sent().values())
            server.start()
            back = time.monotonic()
            wait_for(lambda s=sent_before: sum(provider.jobs_sent().values()) > s, timeout=60, interval=0.05)
            resumes.append(time.monotonic() - back)
        assert all(w.poll() is None for w in workers), "workers ride out the outages"
        wait_for(lambda: all(status(conn, j) == "finished" for j in ids), timeout=240, interval=0.5)
        wait_for(lambda: {c["job_id"] for c in receiver.callbacks()} == set(ids), timeout=60, interval=0.5)
        failed, claims = conn.zcard("rq:failed:webhook"), conn.zcard(contract.CLAIMS)
    finally:
        for worker in workers:
            stop(worker)
        provider.stop()
        receiver.stop()
        server.stop()
    print(f"\n{kind}: {count} jobs, resumed {', '.join(f'{r:.2f}s' for r in resumes)} after each restart")
    sent = provider.jobs_sent()
    twice = [j for j in ids if sent[j] != 1]
    logs = "".join(log_of(w) for w in workers)
    about = "\n".join(line for line in logs.splitlines() if any(f'"{j}' in line or f" {j} " in line for j in twice))
    assert twice == [], f"a live worker sent a job twice:\n{about}"
    assert failed == 0, "a delivered job was marked failed"
    assert claims == 0
    keys: dict[str, set[str]] = {}
    for callback in receiver.callbacks():
        assert callback["status"] == "finished"
        keys.setdefault(callback["job_id"], set()).add(callback["key"])
    assert all(len(k) == 1 for k in keys.values()), "a duplicate callback must carry the same key"
    for worker in workers:
        assert "restarting once Redis answers" not in log_of(worker)
