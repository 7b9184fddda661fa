"""Provider tokens and connections reused across jobs, on every worker class: ten FCM jobs and
ten APNs jobs through a real worker process against the local fakes, counting APNs JWTs (distinct
``authorization`` values), OAuth grants (POSTs to the token endpoint) and connections (distinct
client ports seen by the fakes)."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rq_ext import enqueue
from tests.channels.certs import CA, apns_key
from tests.channels.push_fakes import PROJECT, FakeAPNs, FakeFCM, HypercornThread
from tests.conftest import start_worker_process

JOBS = 10
CONCURRENCY = 4
CLASSES = {
    "fork": ["--worker-class", "fork"],
    "simple": ["--worker-class", "simple"],
    "concurrent": ["--worker-class", "concurrent", "--concurrency", str(CONCURRENCY)],
    "async": ["--worker-class", "async", "--concurrency", str(CONCURRENCY)],
}
#: Connections per provider over the ten jobs, at most: a forked work horse opens its own and it
#: ends with the job; the HTTP/2 APNs client multiplexes every stream over one; FCM (HTTP/1.1
#: through the threaded transport's pool) needs one per request in flight, so up to the concurrency.
MAX_CONNECTIONS = {
    "fork": {"apns": JOBS, "fcm": JOBS},
    "simple": {"apns": 1, "fcm": 1},
    "concurrent": {"apns": 1, "fcm": CONCURRENCY},
    "async": {"apns": 1, "fcm": CONCURRENCY},
}


@pytest.fixture
def fcm_server(ca: CA, tls_dir: Path) -> Iterator[tuple[FakeFCM, HypercornThread]]:
    """The OAuth and send endpoints over TLS with keep-alive (werkzeug closes every connection)."""
    cert, key = ca.issue(tls_dir, "fcm-reuse", ["127.0.0.1"])
    fake = FakeFCM()
    server = HypercornThread(fake, cert, key).start()
    yield fake, server
    server.stop()


@pytest.fixture
def apns_server(ca: CA, tls_dir: Path) -> Iterator[tuple[FakeAPNs, HypercornThread]]:
    cert, key = ca.issue(tls_dir, "apns-reuse", ["127.0.0.1"])
    fake = FakeAPNs()
    server = HypercornThread(fake, cert, key).start()
    yield fake, server
    server.stop()


@pytest.fixture
def worker_env(fcm_server: Any, apns_server: Any, fcm_service_account: Any, ca: CA, tmp_path: Path) -> dict[str, str]:
    """The worker's environment: the endpoints as settings, the accounts in PUSH_ACCOUNTS."""
    (_, fcm), (_, apns) = fcm_server, apns_server
    info, _ = fcm_service_account
    account_file = tmp_path / "fcm-account.json"
    account_file.write_text(json.dumps(info))
    key_path, _ = apns_key(tmp_path)
    accounts = {
        "lab": {
            "fcm": {"service_account": str(account_file), "project_id": PROJECT},
            "apns": {"team_id": "TEAM123456", "key_id": "KEY1234567", "key": str(key_path), "topic": "com.lab.app"},
        }
    }
    return {
        "PUSH_ACCOUNTS": json.dumps(accounts),
        "FCM_ENDPOINT": fcm.url,
        "FCM_OAUTH_TOKEN_URI": f"{fcm.url}/token",
        "APNS_ENDPOINT": apns.url,
        "SSL_CERT_FILE": str(ca.path),
        "REQUESTS_CA_BUNDLE": str(ca.path),
        "DRY_RUN": "0",
    }


def push_task(platform: str, token: str) -> dict[str, Any]:
    payload = {"task": 3, "platform": platform, "tokens": [token], "title": "Report ready", "body": "Your report"}
    return {"payload": {**payload, "config": {"account": "lab"}}}


def enqueue_jobs(conn: Any, first: int = 0) -> list[str]:
    ids = []
    for n in range(first, first + JOBS):
        for task in (push_task("android", f"fcm-token-{n}"), push_task("ios", f"{n:02x}" * 32)):
            ids.append(enqueue("pn", "tasks.push_notification.send_push", task, connection=conn).id)
    return ids


def run_workers(redis_url: str, env: dict[str, str], args: list[str], count: int = 1) -> None:
    procs = [start_worker_process(redis_url, "--customq", "pn", "--burst", *args, **env) for _ in range(count)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, Path(proc.log_path).read_text()[-3000:]  # type: ignore[attr-defined]


def counts(fcm: FakeFCM, apns: FakeAPNs) -> dict[str, int]:
    return {
        "jwts": len({r["headers"].get("authorization") for r in apns.requests}),
        "grants": len(fcm.token_requests),
        "apns_connections": len({r["client"] for r in apns.requests}),
        "fcm_connections": len({s["port"] for s in fcm.sends}),
    }


def assert_finished(conn: Any, ids: list[str]) -> None:
    statuses = [conn.hget(f"rq:job:{job_id}", "status") for job_id in ids]
    unfinished = {
        i: conn.hgetall(f"rq:job:{i}") for i, status in zip(ids, statuses, strict=True) if status != b"finished"
    }
    assert statuses == [b"finished"] * len(ids), {
        i: {k: v[:300] for k, v in h.items() if k != b"data"} for i, h in unfinished.items()
    }


@pytest.mark.parametrize("kind", list(CLASSES))
def test_ten_jobs_one_jwt_one_grant(kind, conn, redis_server, settings, fcm_server, apns_server, worker_env):
    (fcm, _), (apns, _) = fcm_server, apns_server
    ids = enqueue_jobs(conn)
    run_workers(redis_server.url, worker_env, CLASSES[kind])
    assert_finished(conn, ids)
    paths = collections.Counter(r["path"] for r in apns.requests)
    twice = [r for r in apns.requests if paths[r["path"]] > 1]
    assert (len(fcm.sends), len(apns.requests)) == (JOBS, JOBS), (twice, counts(fcm, apns))
    measured = counts(fcm, apns)
    print(f"\n{kind}: {measured}")  # the figures in docs/channels.md
    assert measured["jwts"] == 1 and measured["grants"] == 1
    assert measured["apns_connections"] <= MAX_CONNECTIONS[kind]["apns"]
    assert measured["fcm_connections"] <= MAX_CONNECTIONS[kind]["fcm"]


def test_two_forking_workers_share_the_tokens(conn, redis_server, settings, fcm_server, apns_server, worker_env):
    """Several worker processes (here two at once) still mint one JWT and make one grant."""
    (fcm, _), (apns, _) = fcm_server, apns_server
    ids = enqueue_jobs(conn) + enqueue_jobs(conn, first=JOBS)
    run_workers(redis_server.url, worker_env, CLASSES["fork"], count=2)
    assert_finished(conn, ids)
    measured = counts(fcm, apns)
    print(f"\nfork x2: {measured}")
    assert measured["jwts"] == 1 and measured["grants"] == 1
    assert not any(key.startswith(b"fusion:push:token:") and key.endswith(b":lock") for key in conn.keys("fusion:*"))


def test_the_shared_records_hold_no_key_material(conn, redis_server, settings, fcm_server, apns_server, worker_env):
    ids = enqueue_jobs(conn)[:2]
    run_workers(redis_server.url, worker_env, CLASSES["fork"])
    assert_finished(conn, ids)
    keys = sorted(key.decode() for key in conn.keys("fusion:push:token:*"))
    assert [key.rsplit(":", 1)[0] for key in keys] == ["fusion:push:token:apns", "fusion:push:token:fcm"]
    stored = b"".join(conn.get(key) or b"" for key in keys)
    assert b"PRIVATE KEY" not in stored and b"TEAM123456" not in stored and b"fusion@" not in stored
