"""The per-gateway-account rate limit, shared through Redis: over the limit, a job is deferred."""

from __future__ import annotations

import time

import pytest

import errors
from rq_ext import contract, enqueue
from tasks.gateways import ratelimit
from tests.sms.harness import textlocal_ok


def test_window() -> None:
    assert ratelimit.window(5) == (5, 1000)
    assert ratelimit.window(0.5) == (1, 2000)


def test_over_the_limit_is_deferred(conn) -> None:
    ratelimit.acquire(conn, "textlocal:lab", 2, 1, "lab")
    ratelimit.acquire(conn, "textlocal:lab", 2, 1, "lab")
    with pytest.raises(errors.Deferred) as caught:
        ratelimit.acquire(conn, "textlocal:lab", 2, 1, "lab")
    assert 0 < caught.value.delay <= 1.0
    ratelimit.acquire(conn, "textlocal:other", 2, 1, "other")  # another account has its own window


def test_a_large_batch_is_admitted_alone(conn) -> None:
    ratelimit.acquire(conn, "k", 2, 10, "lab")
    with pytest.raises(errors.Deferred):
        ratelimit.acquire(conn, "k", 2, 1, "lab")


def test_window_ends(conn) -> None:
    ratelimit.acquire(conn, "k", 20, 20, "lab")
    time.sleep(1.05)
    ratelimit.acquire(conn, "k", 20, 20, "lab")


@pytest.mark.parametrize("bad", ["fast", -1])
def test_bad_rate_is_a_configuration_error(bad) -> None:
    with pytest.raises(errors.ConfigurationError):
        ratelimit.rate_of({"rate_limit": bad}, "lab")


def test_jobs_over_the_limit_are_delayed_not_failed(conn, settings_factory, run_worker, httpserver) -> None:
    account = {"gateway": "textlocal", "api_key": "k", "rate_limit": 1, "base_url": httpserver.url_for("/")}
    settings_factory(SMS_ACCOUNTS={"lab1": account})
    httpserver.expect_request("/send/").respond_with_json(textlocal_ok("+919876543210"))
    httpserver.expect_request("/done").respond_with_data("ok")
    for job_id in ("rl-1", "rl-2"):
        task = {"payload": {"task": 1, "account": "lab1", "to": "+919876543210", "message": "hi"}}
        enqueue(
            "sms",
            "tasks.sms.send_sms",
            task,
            connection=conn,
            job_id=job_id,
            success_task_handler=httpserver.url_for("/done"),
        )
    run_worker(["sms"])
    sent = [r for r, _ in httpserver.log if r.path == "/send/"]
    assert len(sent) == 1
    deferred = [j for j in ("rl-1", "rl-2") if conn.zscore(contract.SCHEDULER_SET, j) is not None]
    assert len(deferred) == 1
    assert conn.hget(contract.job_key(deferred[0]), contract.RETRY_COUNT) == b"0"
    assert conn.zcard("rq:failed:sms") == 0
    time.sleep(1.05)
    conn.zadd(contract.SCHEDULER_SET, {deferred[0]: time.time() - 1})
    run_worker(["sms"])
    assert len([r for r, _ in httpserver.log if r.path == "/send/"]) == 2
