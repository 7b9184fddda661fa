"""The dashboard's JSON API through Flask's test client: figures, filters, actions, the right
to act (read-only, token, CSRF) and no patient data in any answer."""

from __future__ import annotations

import json
import sys

import pytest

from rq_ext import contract, enqueue
from rq_ext.dashboard.app import create_app
from rq_ext.failures import fail_job_id
from tests.conftest import dashboards_stopped_at_end

SECRET_NUMBER = "9812345678"
SECRET_TEXT = "HbA1c 9.4 - please see Dr Rao"
SECRET_KEY = "sk_live_TOPSECRET42"
TASK = {
    "payload": {
        "task": 1,
        "to": "+91" + SECRET_NUMBER,
        "message": SECRET_TEXT,
        "gateway": "msg91",
        "config": {"authkey": SECRET_KEY},
    },
    "reference": "lab-77",
}


@pytest.fixture(autouse=True)
def dashboards_stopped(monkeypatch):
    yield from dashboards_stopped_at_end(monkeypatch, sys.modules[__name__])


def _app(conn, settings_factory, token=""):
    settings = settings_factory(DASHBOARD_TOKEN=token)
    app = create_app(conn, settings)
    app.testing = True
    return app.test_client()


def _fail(conn, queue, reason, priority=0, task=TASK):
    job = enqueue(queue, "tasks.sms.send_sms", task, priority=priority, connection=conn)
    conn.zrem(contract.queue_key(queue), job.id)
    fail_job_id(conn, job.id, queue, reason)
    return job


def test_queues_api_figures(conn, settings_factory):
    for i in range(4):
        enqueue("sms", "tasks.sms.send_sms", TASK, priority=i * 10, connection=conn)
    client = _app(conn, settings_factory)
    rows = {r["name"]: r for r in client.get("/api/queues").json}
    sms = rows["sms"]
    assert {k: sms[k] for k in ("type", "depth", "in_flight", "failed", "workers")} == {
        "type": "zset",
        "depth": 4,
        "in_flight": 0,
        "failed": 0,
        "workers": 0,
    }
    assert sms["priority"] == {"highest": 30.0, "median": 20.0, "lowest": 0.0} and sms["oldest_age_s"] is not None
    overview = client.get("/api/overview").json
    assert "queue sms: 4 job(s) waiting and no live worker serves it" in overview["warnings"]
    jobs = client.get("/api/queue/sms").json["jobs"]
    assert [j["priority"] for j in jobs] == [30.0, 20.0, 10.0, 0.0]
    assert jobs[0]["channel"] == "sms" and jobs[0]["gateway"] == "msg91" and jobs[0]["recipients"] == ["********5678"]


def test_overview_warns_about_wrong_types_and_compact_keys(conn, settings_factory):
    conn.rpush("rq:queue:email", "x")
    conn.rpush("rq:queue:_compact:abc", "y")
    warnings = _app(conn, settings_factory).get("/api/overview").json["warnings"]
    assert any("rq:queue:email is a list" in w for w in warnings)
    assert any("rq:queue:_compact:abc" in w for w in warnings)


def test_failed_filter_classes_and_find_by_id(conn, settings_factory):
    a = _fail(conn, "sms", "retries exhausted (10 attempts): provider answered HTTP 503")
    b = _fail(conn, "sms", "gateway rejected +919812345678")
    c = _fail(conn, "email", "malformed job hash: no 'data' field")
    client = _app(conn, settings_factory)
    rows = {r["id"]: r for r in client.get("/api/failed").json["jobs"]}
    assert rows[a.id]["failure_class"] == "retryable exhausted"
    assert rows[b.id]["failure_class"] == "permanent" and SECRET_NUMBER not in rows[b.id]["reason"]
    assert rows[c.id]["failure_class"] == "malformed"
    assert [r["id"] for r in client.get("/api/failed?reason=exhausted").json["jobs"]] == [a.id]
    assert [r["id"] for r in client.get("/api/failed?queue=email").json["jobs"]] == [c.id]
    assert [r["id"] for r in client.get(f"/api/failed?job_id={b.id}").json["jobs"]] == [b.id]
    assert client.get("/api/failed?channel=email&queue=sms").json["jobs"] == []
    assert len(client.get("/api/failed?gateway=msg91&min_age_s=0&max_age_s=60").json["jobs"]) == 3


def test_read_only_without_a_token(conn, settings_factory):
    job = _fail(conn, "sms", "permanent")
    client = _app(conn, settings_factory)
    for action in ("requeue", "delete"):
        resp = client.post(f"/api/failed/{action}", json={"jobs": [{"queue": "sms", "id": job.id}]})
        assert resp.status_code == 403 and "read-only" in resp.json["error"]
    assert conn.zscore("rq:failed:sms", job.id) is not None


def test_bearer_token_requeues_with_priority_and_deletes(conn, settings_factory, caplog):
    keep = _fail(conn, "sms", "retries exhausted (10 attempts): HTTP 503", priority=7)
    gone = _fail(conn, "sms", "permanent: rejected", priority=1)
    client = _app(conn, settings_factory, token="t0ken-abc")
    assert client.post("/api/failed/requeue", json={"filter": {"reason": "exhausted"}}).status_code == 401
    bad = client.post("/api/failed/requeue", json={"filter": {}}, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    auth = {"Authorization": "Bearer t0ken-abc"}
    caplog.set_level("INFO", logger="fusion.dashboard")
    resp = client.post("/api/failed/requeue", json={"filter": {"reason": "exhausted"}}, headers=auth)
    assert resp.json == {"action": "requeue", "count": 1}
    assert conn.type("rq:queue:sms") == b"zset" and conn.zscore("rq:queue:sms", keep.id) == 7.0
    resp = client.post("/api/failed/delete", json={"jobs": [{"queue": "sms", "id": gone.id}]}, headers=auth)
    assert resp.json == {"action": "delete", "count": 1} and not conn.exists(gone.key)
    logged = [r.getMessage() for r in caplog.records if r.name == "fusion.dashboard"]
    assert any("requeue by bearer token" in m and "1 job(s)" in m for m in logged)
    assert any("delete by bearer token" in m and "1 selected" in m for m in logged)


def test_session_needs_the_csrf_token(conn, settings_factory):
    job = _fail(conn, "sms", "permanent")
    client = _app(conn, settings_factory, token="t0ken-abc")
    page = client.get("/").data.decode()
    csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert client.post("/login", data={"token": "t0ken-abc"}).status_code == 403  # login form needs it too
    assert client.post("/login", data={"token": "nope", "csrf": csrf}).status_code == 401
    assert client.post("/login", data={"token": "t0ken-abc", "csrf": csrf}).status_code == 302
    page = client.get("/").data.decode()
    assert 'data-can-act="1"' in page
    fresh = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert fresh != csrf  # a new CSRF token with the new session
    csrf = fresh
    body = {"jobs": [{"queue": "sms", "id": job.id}]}
    refused = client.post("/api/failed/requeue", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json["error"]
    assert client.post("/api/failed/requeue", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    resp = client.post("/api/failed/requeue", json=body, headers={"X-CSRF-Token": csrf})
    assert resp.json["count"] == 1


def test_outbox_read_defensively(conn, settings_factory):
    client = _app(conn, settings_factory)
    assert client.get("/api/outbox").json == {"pending": [], "pending_total": 0, "dead": [], "dead_total": 0}
    conn.zadd("fusion:outbox:due", {"e1": 1e10, "e2": 1e10})
    entry = {
        "kind": "callback",
        "job_id": "j1",
        "url": "https://lab.example/cb?token=abc",
        "attempts": 2,
        "created": 1.0,
        "last_error": "HTTP 500 for +919812345678",
        "outcome": "finished",
        "fields": {"to": "+919812345678"},
        "body": '[{"payload": {"message": "HbA1c 9.4"}}]',
    }
    conn.hset("fusion:outbox:entries", "e1", json.dumps(entry))
    conn.lpush("fusion:outbox:dead", "not json", json.dumps({**entry, "kind": "retry"}))
    data = client.get("/api/outbox").json
    assert data["pending_total"] == 2 and data["pending"][0]["url"] == "https://lab.example/cb"
    assert data["pending"][1]["kind"] is None  # no entry for e2
    assert [d["kind"] for d in data["dead"]] == ["retry", None]
    assert (
        SECRET_NUMBER not in json.dumps(data)
        and "token=abc" not in json.dumps(data)
        and "HbA1c" not in json.dumps(data)
    )
    assert data["pending"][0]["outcome"] == "finished" and "fields" not in data["pending"][0]
    conn.delete("fusion:outbox:due")
    conn.set("fusion:outbox:due", "garbage")
    assert client.get("/api/outbox").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/page/failed",
        "/page/delayed",
        "/page/inflight",
        "/page/workers",
        "/page/outbox",
        "/page/charts",
        "/queue/sms",
    ],
)
def test_no_patient_data_in_any_answer(conn, settings_factory, path):
    enqueue("sms", "tasks.sms.send_sms", TASK, priority=3, connection=conn)
    enqueue("sms", "tasks.sms.send_sms", TASK, delay=600, connection=conn)
    _fail(conn, "sms", f"rejected {SECRET_NUMBER}: {SECRET_TEXT}")
    conn.zadd(contract.AWAITING_RETRY, {enqueue("sms", "tasks.sms.send_sms", TASK, connection=conn).id: 1.0})
    client = _app(conn, settings_factory)
    answers = [client.get(path).data.decode()]
    for api in (
        "/api/queues",
        "/api/overview",
        "/api/queue/sms",
        "/api/delayed",
        "/api/awaiting",
        "/api/inflight",
        "/api/failed",
        "/api/workers",
        "/api/outbox",
        "/api/charts",
    ):
        answers.append(client.get(api).data.decode())
    text = "\n".join(answers)
    for secret in (SECRET_NUMBER, SECRET_TEXT, "HbA1c", SECRET_KEY):
        assert secret not in text


def test_failed_listing_pages(conn, settings_factory):
    jobs = [_fail(conn, "sms", f"permanent {i}") for i in range(55)]
    client = _app(conn, settings_factory)
    first, second = client.get("/api/failed").json, client.get("/api/failed?page=1").json
    assert first["total"] == second["total"] == 55 and first["per_queue"]["sms"] == 55
    assert len(first["jobs"]) == 50 and len(second["jobs"]) == 5
    assert {j["id"] for j in first["jobs"] + second["jobs"]} == {j.id for j in jobs}
    filtered = client.get("/api/failed?reason=permanent&page=1").json
    assert filtered["total"] == 55 and len(filtered["jobs"]) == 5


def test_login_redirects_only_to_a_local_path(conn, settings_factory):
    client = _app(conn, settings_factory, token="t0ken-abc")
    csrf = client.get("/").data.decode().split('name="csrf-token" content="')[1].split('"')[0]
    resp = client.post("/login", data={"token": "t0ken-abc", "csrf": csrf, "next": "//evil.example/x"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_webhook_recipient_is_the_host_only(conn, settings_factory):
    hook = {
        "payload": {
            "task": 4,
            "url": "https://user:pw@hooks.lab.example/patients/8812?sig=abc",
            "json": {"name": "Asha"},
        }
    }
    enqueue("webhook", "tasks.webhooks.send_webhook", hook, connection=conn)
    [job] = _app(conn, settings_factory).get("/api/queue/webhook").json["jobs"]
    assert job["channel"] == "webhook" and job["recipients"] == ["https://hooks.lab.example"]


def test_workers_page_reads_rq_worker_hashes(conn, settings_factory):
    from rq.utils import now, utcformat

    conn.sadd("rq:workers", "rq:worker:w1")
    conn.hset(
        "rq:worker:w1",
        mapping={
            "hostname": "lab-1",
            "pid": 42,
            "queues": "sms,email",
            "state": "busy",
            "last_heartbeat": utcformat(now()),
            "successful_job_count": 5,
            "failed_job_count": 1,
        },
    )
    data = _app(conn, settings_factory).get("/api/workers").json
    [w] = data["workers"]
    assert (w["name"], w["hostname"], w["pid"], w["queues"], w["jobs_done"], w["jobs_failed"], w["live"]) == (
        "w1",
        "lab-1",
        "42",
        ["sms", "email"],
        5,
        1,
        True,
    )
    assert w["worker_class"] == "-" and data["missing_fields"] == ["worker_class", "concurrency", "dry_run"]
    conn.hset("rq:worker:w1", mapping={"worker_class": "concurrent", "concurrency": 8, "dry_run": "1"})
    data = _app(conn, settings_factory).get("/api/workers").json
    assert data["workers"][0]["concurrency"] == "8" and data["missing_fields"] == []


def test_overview_warns_about_orphans_found_in_the_background(conn, settings_factory):
    from tests.conftest import wait_for

    job = enqueue("sms", "tasks.sms.send_sms", TASK, connection=conn)
    conn.zrem("rq:queue:sms", job.id)  # status queued, in no queue
    client = create_app(conn, settings_factory(DOCTOR_ORPHAN_AGE=0)).test_client()
    client.get("/api/overview")  # starts the search
    warnings = wait_for(
        lambda: [w for w in client.get("/api/overview").json["warnings"] if "orphaned" in w], timeout=10
    )
    assert job.id in warnings[0]


def test_the_background_search_stops_with_its_app(conn, settings_factory):
    from rq_ext.dashboard.app import STATE, stop

    app = create_app(conn, settings_factory())
    app.test_client().get("/api/overview")  # starts the search
    searcher = app.extensions[STATE]._searcher
    assert searcher is not None and searcher.is_alive()
    stop(app)
    assert not searcher.is_alive()
    app.test_client().get("/api/overview")  # a stopped app starts no new search
    assert app.extensions[STATE]._searcher is searcher
