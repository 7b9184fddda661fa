"""The outcome path's own promises, each written to fail on a one-line change that once went
unnoticed: the layers of rq_ext, the error table, the claim, recovery, the ledger, the whitelist,
the order of "finished" and its callback."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest
import requests
from rq.job import Job

from errors import Failure
from rq_ext import contract, enqueue, outbox
from rq_ext.classify import classify
from rq_ext.job import FusionJob
from rq_ext.outcome import decide_failure
from rq_ext.queue import FusionQueue
from rq_ext.recovery import recover_abandoned
from tests.conftest import ROOT

RQ_EXT = ROOT / "rq_ext"


def _imports(path: Path) -> set[str]:
    """Modules of rq_ext (and tasks) a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith(("rq_ext", "tasks")))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(("rq_ext", "tasks")))
    return found


def _module_graph() -> dict[str, set[str]]:
    modules = {f"rq_ext.{p.stem}": p for p in RQ_EXT.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_rq_ext_has_no_import_cycle_and_never_imports_tasks() -> None:
    for path in RQ_EXT.rglob("*.py"):
        assert not [m for m in _imports(path) if m.split(".")[0] == "tasks"], f"{path} imports tasks"
    graph = _module_graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*trail, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("refused"),
    ],
)
def test_transport_errors_are_retryable(exc: Exception) -> None:
    assert classify(exc).retryable


def test_redis_error_in_a_job_is_never_its_failure() -> None:
    import redis

    failure = classify(redis.ConnectionError("Connection refused"))
    assert failure.deferred is not None and not failure.retryable and "Redis unreachable" in failure.reason


def test_claim_takes_the_job_out_of_its_queue(conn, settings) -> None:
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="c1")
    queue = FusionQueue("sms", connection=conn)
    ((job, _),) = FusionQueue.claim([queue], conn, FusionJob, count=5, worker="w1")
    assert job.id == "c1"
    assert conn.zcard("rq:queue:sms") == 0
    assert conn.zscore(contract.CLAIMS, "c1") is not None
    assert conn.hget("rq:job:c1", "worker_name") == b"w1"


def test_recovery_takes_only_expired_claims(conn, settings) -> None:
    for job_id, lease in (("dead", time.time() - 1), ("live", time.time() + 30)):
        enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id=job_id)
        conn.zrem("rq:queue:sms", job_id)
        conn.hset(f"rq:job:{job_id}", "status", "started")
        conn.zadd(contract.CLAIMS, {job_id: lease})
    assert recover_abandoned(conn) == 1
    assert [i.decode() for i in conn.zrange("rq:queue:sms", 0, -1)] == ["dead"]
    assert conn.zscore(contract.CLAIMS, "live") is not None


def test_webhook_accepted_is_written_to_the_ledger(conn, settings, run_worker, httpserver) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    task = {"payload": {"task": 4, "url": httpserver.url_for("/hook"), "method": "POST", "body": "{}"}}
    enqueue("webhook", "tasks.webhooks.send_webhook", task, connection=conn, job_id="wl")
    run_worker(["webhook"])
    assert Job.fetch("wl", connection=conn).get_status() == "finished"
    assert conn.hlen(contract.LEDGER_PREFIX + "wl") == 1


def test_whitelist_is_anchored_at_the_start(conn, settings_factory, run_worker, httpserver) -> None:
    settings_factory(WEBHOOK_WHITELIST=r"http://trusted\.example/")
    url = httpserver.url_for("/hook") + "?next=http://trusted.example/"
    task = {"payload": {"task": 4, "url": url, "method": "POST", "body": "{}"}}
    enqueue("webhook", "tasks.webhooks.send_webhook", task, connection=conn, job_id="wa")
    run_worker(["webhook"])
    assert Job.fetch("wa", connection=conn).get_status() == "failed"
    assert not httpserver.log


def test_success_callback_is_sent_only_once_the_job_is_finished(conn, settings, run_each_worker, httpserver) -> None:
    seen = []

    def receiver(request):  # the server reads the job the moment its callback arrives
        from werkzeug import Response

        seen.append(conn.hget("rq:job:fin", "status"))
        return Response("ok")

    httpserver.expect_request("/done").respond_with_handler(receiver)
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="fin",
            success_task_handler=httpserver.url_for("/done"))  # fmt: skip
    run_each_worker(["sms"])
    assert seen == [b"finished"]


def test_unserialisable_task_fails_with_a_reason_on_retry(conn, settings_factory) -> None:
    settings = settings_factory(FUSION_SERVER="http://127.0.0.1:9")
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    job = FusionJob.create("tests.jobs.transient", args=[{"deep": deep}], connection=conn, description="deep")
    decision = decide_failure(job, Failure(True, "HTTP 503"), "", 0, settings)  # type: ignore[arg-type]
    assert decision.outcome == "failed" and "not serialisable as JSON" in decision.reason


def test_outbox_entry_is_stable_for_the_same_job_and_outcome(conn, settings) -> None:
    entry = outbox.Entry(outbox.entry_id("j", "failed", 2), outbox.CALLBACK, "j", "failed", "http://x/", {"a": "b"})
    for _ in range(2):  # the same outcome applied twice (a re-run) writes one entry
        with conn.pipeline() as pipe:
            outbox.stage(pipe, [entry])
            pipe.execute()
    assert conn.hlen(contract.OUTBOX_ENTRIES) == 1 and conn.zcard(contract.OUTBOX_DUE) == 1
    assert json.loads(conn.hget(contract.OUTBOX_ENTRIES, "j:failed:2"))["fields"] == {"a": "b"}


def test_a_middleware_that_raises_never_changes_the_outcome(conn, settings_factory, run_each_worker, caplog) -> None:
    settings_factory(JOB_MIDDLEWARE=["tests.jobs:BrokenHook", "no.such.module:Hook"])
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="mw")
    run_each_worker(["sms"])
    assert Job.fetch("mw", connection=conn).get_status() == "finished"
    assert "middleware BrokenHook failed before job mw" in caplog.text
    assert "middleware BrokenHook failed after job mw" in caplog.text
    assert "middleware no.such.module:Hook could not be loaded" in caplog.text


def test_callback_description_masks_every_kind_of_recipient() -> None:
    from rq_ext.callbacks import describe

    task = {"payload": {"task": "3", "tokens": ["fcm-token-abcdefghijkl1234"], "to": ["Ravi Kumar", "+919876543210"]}}
    shown = describe("tasks.push_notification.send_push", task)
    assert shown.startswith("tasks.push_notification.send_push(channel=push, to=")
    assert "abcdefghijkl" not in shown and "token …1234" in shown
    assert "Ravi" not in shown and "9876543210" not in shown and "3210" in shown
