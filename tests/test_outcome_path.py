"""The outcome path's own promises, each written to fail on a one-line change that once went
unnoticed: the layers of rq_ext, the error table, the claim, recovery, the ledger, the whitelist,
the order of "finished" and its callback."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from redis import Redis
from rq.job import Job, JobStatus
from rq.utils import now, utcformat

from config import Settings
from errors import Failure, InvalidJob
from rq_ext import contract, enqueue, outbox, sender
from rq_ext.classify import classify, classify_exc_string
from rq_ext.job import FusionJob, check_fields
from rq_ext.outcome import decide_failure, failure_trace
from rq_ext.queue import FusionQueue
from rq_ext.recovery import _pid_runs, _seconds_since, recover_abandoned, release
from tests.conftest import ROOT, wait_for

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
    # permanent from then on: no "retries exhausted" in its trace
    assert decision.trace == "task cannot be handed to /retryTask/: not serialisable as JSON (RecursionError)"


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


# -- found by the mutation run (docs/reliability.md, "Mutation testing"): each test below kills
# mutants that the suite let through ----------------------------------------------------------


def _failed_job(conn: Redis, queue: str, job_id: str, **fields: object) -> FusionJob:
    enqueue(queue, "tests.jobs.record", {}, connection=conn, job_id=job_id)
    if queue == "scheduler":
        conn.lrem(contract.QUEUE_PREFIX + queue, 0, job_id)
    else:
        conn.zrem(contract.QUEUE_PREFIX + queue, job_id)
    conn.hset(contract.job_key(job_id), mapping={"status": "failed", **fields})  # type: ignore[arg-type]
    conn.zadd(contract.FAILED_PREFIX + queue, {job_id: time.time() + 60})
    return FusionJob.fetch(job_id, connection=conn)


# -- rq_ext/job.py ---------------------------------------------------------------------------


def test_requeue_puts_a_failed_job_back_with_its_recoveries_reset(conn: Redis, settings: Settings) -> None:
    job = _failed_job(conn, "sms", "r1", recoveries=3, priority=7)
    job.requeue()
    assert conn.hget("rq:job:r1", "status") == b"queued"
    assert conn.hget("rq:job:r1", contract.RECOVERIES) == b"0"
    assert conn.zscore("rq:failed:sms", "r1") is None
    assert conn.zscore("rq:queue:sms", "r1") == 7.0


def test_requeue_goes_to_the_back_of_the_scheduler_list_unless_asked(conn: Redis, settings: Settings) -> None:
    conn.rpush("rq:queue:scheduler", "other")
    _failed_job(conn, "scheduler", "back").requeue()
    _failed_job(conn, "scheduler", "front").requeue(at_front=True)
    assert conn.lrange("rq:queue:scheduler", 0, -1) == [b"front", b"other", b"back"]


@pytest.mark.parametrize(("left", "after"), [(3, 2), (1, 0), (None, 0)])
def test_rq_retry_counts_down_and_pushes_in_the_callers_transaction(
    conn: Redis, settings: Settings, left: int | None, after: int
) -> None:
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="rt", priority=4)
    conn.zrem("rq:queue:sms", "rt")
    conn.hset("rq:job:rt", "status", "started")
    job = FusionJob.fetch("rt", connection=conn)
    job.retries_left = left
    with conn.pipeline() as pipe:
        job.retry(FusionQueue("sms", connection=conn), pipe)
        assert job.retries_left == after
        # nothing is written before the caller's transaction runs
        assert conn.hget("rq:job:rt", "status") == b"started" and conn.zcard("rq:queue:sms") == 0
        pipe.execute()
    assert conn.hget("rq:job:rt", "status") == JobStatus.QUEUED.value.encode()
    assert conn.zscore("rq:queue:sms", "rt") == 4.0


def test_a_malformed_field_is_shown_decoded_and_cut_at_40_characters() -> None:
    with pytest.raises(InvalidJob) as bad_bytes:
        check_fields({"result_ttl": b"\xff\xfeten"})
    assert str(bad_bytes.value) == (
        "malformed job hash: field 'result_ttl' is str '\ufffd\ufffdten', expected an integer"
    )
    with pytest.raises(InvalidJob, match="field 'result_ttl' is str 'ten', expected an integer"):
        check_fields({"result_ttl": "ten"})  # a value already text
    with pytest.raises(InvalidJob) as long_value:
        check_fields({"failure_ttl": b"x" * 60})
    assert f"is str {'x' * 40!r}, expected an integer" in str(long_value.value)


# -- rq_ext/recovery.py ----------------------------------------------------------------------


def test_a_job_recovered_too_often_fails_in_its_own_queue(conn: Redis, settings: Settings) -> None:
    enqueue("email", "tests.jobs.record", {}, connection=conn, job_id="tired")
    conn.zrem("rq:queue:email", "tired")
    conn.hset("rq:job:tired", mapping={"status": "started", contract.RECOVERIES: settings.MAX_RECOVERIES})
    conn.zadd(contract.CLAIMS, {"tired": time.time() - 1})
    assert recover_abandoned(conn, settings) == 0
    assert conn.zscore("rq:failed:email", "tired") is not None
    assert conn.hget("rq:job:tired", "status") == b"failed"
    reason = f"job abandoned by a dead worker more than {settings.MAX_RECOVERIES} times"
    assert conn.hget("rq:job:tired", "exc_info") == reason.encode()
    assert conn.zscore(contract.CLAIMS, "tired") is None


# -- rq_ext/outbox.py ------------------------------------------------------------------------


def _staged(conn: Redis, *entries: outbox.Entry) -> None:
    with conn.pipeline() as pipe:
        outbox.stage(pipe, list(entries))
        pipe.execute()


def test_give_up_keeps_a_dead_record_once(conn: Redis, settings: Settings) -> None:
    entry = outbox.Entry("j:failed:0", outbox.CALLBACK, "j", "failed", "http://127.0.0.1:9/x", attempts=2)
    _staged(conn, entry)
    assert outbox.pending(conn) == 1
    before = time.time()
    assert outbox.give_up(conn, entry, "HTTP 404 " + "x" * 400) is True
    assert outbox.pending(conn) == 0 and conn.hlen(contract.OUTBOX_ENTRIES) == 0
    (raw,) = conn.lrange(contract.OUTBOX_DEAD, 0, -1)
    dead = json.loads(raw)
    assert dead["id"] == "j:failed:0" and dead["attempts"] == 3
    assert dead["last_error"] == ("HTTP 404 " + "x" * 400)[:300]
    assert before <= dead["given_up"] <= time.time()
    assert conn.hget(contract.STATS, "outbox_given_up:callback") == b"1"
    # a second sender giving up the same entry does nothing (and says so: no second log line)
    assert outbox.give_up(conn, entry, "again") is False
    assert conn.llen(contract.OUTBOX_DEAD) == 1


def test_a_refused_handover_schedules_the_job_after_its_backoff(conn: Redis, settings: Settings) -> None:
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="h1")
    conn.zrem("rq:queue:sms", "h1")
    conn.zadd(contract.AWAITING_RETRY, {"h1": time.time()})
    entry = outbox.Entry("h1:retried:1", outbox.HANDOVER, "h1", "retried", body="[]", fallback_delay=120.0)
    _staged(conn, entry)
    before = time.time()
    assert outbox.schedule_locally(conn, entry) is True
    due = conn.zscore(contract.SCHEDULER_SET, "h1")
    assert due is not None and before + 120 <= due <= time.time() + 120
    assert conn.hget("rq:job:h1", "status") == b"scheduled"
    assert conn.zscore(contract.AWAITING_RETRY, "h1") is None and outbox.pending(conn) == 0


def test_outbox_entries_lists_the_soonest_up_to_the_limit(conn: Redis, settings: Settings) -> None:
    entries = [outbox.Entry(f"e{n:03}:finished:0", outbox.CALLBACK, f"e{n:03}", "finished") for n in range(102)]
    with conn.pipeline() as pipe:
        for n, entry in enumerate(entries):
            outbox.stage(pipe, [entry], now=1000.0 + n)
        pipe.execute()
    assert len(outbox.entries(conn)) == 100
    listed = outbox.entries(conn, limit=3)
    assert [(e.id, due) for e, due in listed] == [(entries[n].id, 1000.0 + n) for n in range(3)]


# -- rq_ext/outcome.py, rq_ext/classify.py ---------------------------------------------------


def test_failure_trace_adds_only_a_traceback() -> None:
    assert failure_trace(Failure(False, "bad payload"), "ValueError: no traceback here", 0) == "bad payload"
    trace = "Traceback (most recent call last):\n  ...\nValueError: x"
    assert failure_trace(Failure(False, "bad payload"), trace, 0) == f"bad payload\n\n{trace}"
    assert failure_trace(Failure(True, "HTTP 503"), "", 3) == "retries exhausted (3 attempts): HTTP 503"


@pytest.mark.parametrize(
    ("text", "retryable", "reason"),
    [
        (
            "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ",
            True,
            "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9);",
        ),
        ("  ValueError: boom\n", False, "ValueError: boom"),
        ("   ", False, "job failed"),
    ],
)
def test_a_failure_known_only_by_its_text(text: str, retryable: bool, reason: str) -> None:
    """The parent worker's view of its work horse: only a dead horse is worth another try."""
    assert classify_exc_string(text) == Failure(retryable, reason)


# -- rq_ext/recovery.py: release, and the namesake's liveness ----------------------------------


def test_release_puts_a_job_in_hand_back_once(conn: Redis, settings: Settings) -> None:
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="held", priority=3)
    ((job, _),) = FusionQueue.claim([FusionQueue("sms", connection=conn)], conn, FusionJob, count=1, worker="w1")
    assert job.id == "held" and conn.zcard("rq:queue:sms") == 0
    assert release(conn, "held") is True
    assert conn.zscore("rq:queue:sms", "held") == 3.0 and conn.zscore(contract.CLAIMS, "held") is None
    assert release(conn, "held") is False


def test_a_pid_runs_until_it_exits_even_unreaped() -> None:
    assert _pid_runs(os.getpid()) is True
    child = subprocess.Popen(["true"])
    stat = Path(f"/proc/{child.pid}/stat")
    wait_for(lambda: stat.read_text().rpartition(")")[2].split()[0] == "Z", timeout=5)
    assert _pid_runs(child.pid) is False  # a zombie: killed, not yet reaped
    child.wait()
    assert _pid_runs(child.pid) is False


def test_seconds_since_a_heartbeat() -> None:
    assert 29 <= _seconds_since(utcformat(now() - timedelta(seconds=30))) <= 31
    assert _seconds_since("not a date") == 0.0


@pytest.mark.parametrize("server", ["", "http://127.0.0.1:9"])
def test_a_retry_waits_at_least_the_providers_retry_after(conn: Redis, settings_factory, server: str) -> None:
    settings = settings_factory(FUSION_SERVER=server, RETRY_BACKOFF_BASE=1.0, RETRY_BACKOFF_MAX=600.0)
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="ra")
    job = FusionJob.fetch("ra", connection=conn)
    decision = decide_failure(job, Failure(True, "HTTP 429", retry_after=120.0), "", 0, settings)
    assert (decision.outcome, decision.retry_count, decision.handed_over) == ("retried", 1, bool(server))
    assert decision.delay >= 120.0
    if server:  # the hand-over's key: the same job and attempt always give the same entry
        (entry,) = decision.entries
        assert (entry.id, entry.kind, entry.job_id, entry.outcome) == ("ra:retried:1", "retry", "ra", "retried")
        assert entry.fallback_delay >= 120.0
    else:
        assert decision.entries == []


# -- rq_ext/sender.py: the callbacks' backoff ----------------------------------------------------


def test_callback_backoff_doubles_with_jitter_capped_and_floored_by_retry_after(
    settings_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_factory(OUTBOX_BACKOFF_BASE=1.0, OUTBOX_BACKOFF_MAX=600.0)
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return factor

    monkeypatch.setattr(sender.random, "uniform", uniform)
    factor = 1.0
    assert [sender.backoff(settings, n, None) for n in (0, 1, 3, 20)] == [1.0, 2.0, 8.0, 600.0]
    assert set(drawn) == {(0.5, 1.5)}
    factor = 1.5
    assert sender.backoff(settings, 3, None) == 12.0
    factor = 0.5
    assert sender.backoff(settings, 3, None) == 4.0
    assert sender.backoff(settings, 3, 30.0) == 30.0  # the receiver's Retry-After, when longer
    assert sender.backoff(settings, 3, 9000.0) == 600.0  # ... capped
    assert sender.backoff(settings_factory(OUTBOX_BACKOFF_BASE=0.05), 0, None) == 0.025  # no floor without one


def test_a_deferred_attempt_keeps_its_retry_count_and_reason(conn: Redis, settings: Settings) -> None:
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="df")
    job = FusionJob.fetch("df", connection=conn)
    decision = decide_failure(job, Failure(False, "rate limited", deferred=5.0), "", 2, settings)
    assert (decision.outcome, decision.reason, decision.retry_count, decision.delay) == (
        "deferred",
        "rate limited",
        2,
        5.0,
    )
    assert decision.entries == []


def test_exhausted_retries_fail_with_a_callback_keyed_by_the_attempt(conn: Redis, settings_factory) -> None:
    settings = settings_factory(MAX_RETRIES=3)
    task = {"payload": {"task": 4, "url": "http://127.0.0.1:9/hook"}}
    enqueue(
        "webhook",
        "tasks.webhooks.send_webhook",
        task,
        connection=conn,
        job_id="ex",
        failed_task_handler="http://127.0.0.1:9/failed",
    )
    job = FusionJob.fetch("ex", connection=conn)
    decision = decide_failure(job, Failure(True, "HTTP 503"), "", 3, settings)
    assert (decision.outcome, decision.retry_count) == ("failed", 3)
    assert decision.trace == "retries exhausted (3 attempts): HTTP 503"
    (entry,) = decision.entries
    assert entry.job_id == "ex"
    assert (entry.id, entry.kind, entry.outcome, entry.url) == (
        "ex:failed:3",
        "callback",
        "failed",
        "http://127.0.0.1:9/failed",
    )
    assert entry.fields["description"] == "tasks.webhooks.send_webhook(channel=webhook)"
    assert entry.fields["failure_trace"] == decision.trace and entry.fields["job_id"] == "ex"


def test_a_retry_of_a_job_whose_args_cannot_be_read_fails_naming_why(conn: Redis, settings_factory) -> None:
    settings = settings_factory(FUSION_SERVER="http://127.0.0.1:9")
    enqueue("sms", "tests.jobs.record", {}, connection=conn, job_id="ua")
    conn.hset("rq:job:ua", "data", b"\x80\x05not a pickle")
    job = FusionJob.fetch("ua", connection=conn)
    decision = decide_failure(job, Failure(True, "HTTP 503"), "", 0, settings)
    assert decision.outcome == "failed"
    assert decision.reason.startswith("task cannot be handed to /retryTask/: its args cannot be read (")
    assert not decision.reason.endswith("(NoneType)")


def _classified() -> list[tuple[BaseException, Failure]]:
    import redis
    from botocore.exceptions import EndpointConnectionError
    from rq.exceptions import DeserializationError
    from rq.timeouts import JobTimeoutException

    from errors import Deferred, ProviderRejected, RateLimited

    limited = RateLimited("HTTP 429 from the gateway")
    limited.retry_after = 30.0  # type: ignore[attr-defined]
    rejected = ProviderRejected("HTTP 400: bad number")
    rejected.details = {"status_code": 400}
    return [
        (Deferred("our own rate limit", 12.0), Failure(False, "our own rate limit", deferred=12.0)),
        (Deferred("late", -3.0), Failure(False, "late", deferred=0.0)),
        (redis.TimeoutError("t"), Failure(False, "Redis unreachable during the job (TimeoutError)", deferred=5.0)),
        (limited, Failure(True, "HTTP 429 from the gateway", 30.0)),
        (rejected, Failure(False, "HTTP 400: bad number", details=(("status_code", "400"),))),
        (requests.ReadTimeout("read timed out"), Failure(True, "ReadTimeout: read timed out")),
        (
            JobTimeoutException("Task exceeded maximum timeout value (30 seconds)"),
            Failure(True, "job timed out: Task exceeded maximum timeout value (30 seconds)"),
        ),
        (DeserializationError("bad pickle"), Failure(False, "job data could not be decoded (DeserializationError)")),
        (KeyError("to"), Failure(False, "KeyError: 'to'")),
        (
            EndpointConnectionError(endpoint_url="https://email.example"),
            Failure(True, "AWS: connection failed (EndpointConnectionError)"),
        ),
    ]


@pytest.mark.parametrize(("exc", "failure"), _classified())
def test_the_error_table_row_by_row(exc: BaseException, failure: Failure) -> None:
    """Each row of classify's table: retryable or not, the reason, the wait, the details."""
    assert classify(exc) == failure


def test_a_zombie_is_found_whatever_its_name(tmp_path: Path) -> None:
    """The state is read after the *last* ")" of /proc/<pid>/stat: the name may hold one."""
    odd = tmp_path / "t) R 1"
    odd.write_bytes(Path("/bin/true").read_bytes())
    odd.chmod(0o755)
    child = subprocess.Popen([str(odd)])
    stat = Path(f"/proc/{child.pid}/stat")
    wait_for(lambda: stat.read_text().rpartition(")")[2].split()[0] == "Z", timeout=5)
    assert _pid_runs(child.pid) is False
    child.wait()
