"""The breaker's rules one by one against the tests' redis-server: one probe among many workers,
the failure-rate window, failing open when Redis is away, the error a job ends with; and the
WhatsApp channel, which shares the fallback helper."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import redis

import errors
from rq_ext import breakers, contract, enqueue
from tasks.gateways.accounts import Account
from tasks.gateways.breaker import Breaker, Policy, Ticket, exhausted
from tests.conftest import wait_for
from tests.sms.cases_whatsapp import E164, META

ACCOUNT = Account("textlocal", {"api_key": "secret-key"}, "lab1")


def policy(**changes: Any) -> Policy:
    base = {"failures": 2, "rate": 0.0, "min_calls": 1, "window_ms": 0, "cooldown_ms": 1000, "probe_ms": 5000}
    return Policy(**{**base, **changes})


def trip(conn: Any, rule: Policy) -> None:
    breaker = Breaker(conn, ACCOUNT, "sms", rule)
    for _ in range(rule.failures):
        breaker.failed(breaker.admit(), errors.ProviderUnavailable("HTTP 503"))


def test_exactly_one_of_many_workers_gets_the_probe(conn, redis_server) -> None:
    rule = policy()
    trip(conn, rule)
    with pytest.raises(errors.CircuitOpen, match=r"circuit open for sms gateway textlocal/lab1 until"):
        Breaker(conn, ACCOUNT, "sms", rule).admit()
    time.sleep(1.05)  # the cool-down ends: half-open
    start, outcomes = threading.Barrier(8), []

    def worker() -> None:
        client = redis.Redis(port=redis_server.port)  # a connection of its own, as another worker has
        start.wait()
        try:
            outcomes.append(Breaker(client, ACCOUNT, "sms", rule).admit())
        except errors.CircuitOpen as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    probes = [o for o in outcomes if isinstance(o, Ticket)]
    assert len(probes) == 1 and probes[0].probe
    skipped = [o for o in outcomes if isinstance(o, errors.CircuitOpen)]
    assert len(skipped) == 7 and all("a probe is running" in str(e) for e in skipped)
    assert all(0 < (e.retry_after or 0) <= 1.0 for e in skipped)  # no longer than a cool-down


def test_a_failure_rate_over_the_window_opens_it(conn) -> None:
    rule = policy(failures=100, rate=0.5, min_calls=4, window_ms=60_000)
    breaker = Breaker(conn, ACCOUNT, "sms", rule)
    outcomes = [True, False, True, False]  # never two failures in a row
    for ok in outcomes:
        ticket = breaker.admit()
        if ok:
            breaker.succeeded(ticket)
        else:
            breaker.failed(ticket, errors.DeliveryTimeout("read timed out"))
    (view,) = breakers.read_all(conn)
    assert (view.state, view.failures, view.last_error) == ("open", 1, "DeliveryTimeout")


def test_below_the_least_attempts_the_rate_does_not_open_it(conn) -> None:
    breaker = Breaker(conn, ACCOUNT, "sms", policy(failures=100, rate=0.5, min_calls=10, window_ms=60_000))
    for _ in range(3):
        breaker.failed(breaker.admit(), errors.ProviderUnavailable("HTTP 502"))
    assert breakers.read_all(conn) == []
    assert contract.text(conn.hget(breaker.key, "w_fails")) == "3"


def test_unreachable_redis_fails_open(caplog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = redis.Redis(port=port, socket_connect_timeout=1)  # a closed loopback port
    breaker = Breaker(client, ACCOUNT, "sms", policy())
    ticket = breaker.admit()
    assert ticket == Ticket(live=False)
    breaker.failed(ticket, errors.ProviderUnavailable("HTTP 503"))
    breaker.succeeded(ticket)
    assert "Redis error on admit (ConnectionError); going on as if closed" in caplog.text
    assert "secret-key" not in caplog.text


def test_every_account_skipped_defers_until_the_soonest_cool_down_ends() -> None:
    skipped = [errors.CircuitOpen("circuit open for a", retry_after=20.0), errors.CircuitOpen("b", retry_after=7.0)]
    final = exhausted(skipped)
    assert isinstance(final, errors.Deferred) and final.delay == 7.0
    assert str(final) == "circuit open for a; b"


def test_a_real_failure_among_the_skipped_is_retried_as_before() -> None:
    failures = [errors.RateLimited("a: HTTP 429", retry_after=12.0), errors.CircuitOpen("b open", retry_after=5.0)]
    final = exhausted(failures)
    assert type(final) is errors.RateLimited and final.retry_after == 12.0
    assert str(final) == "a: HTTP 429; b open"


def test_the_breaker_keeps_labels_only(conn) -> None:
    trip(conn, policy())
    stored = {
        contract.text(k): contract.text(v)
        for k, v in conn.hgetall(contract.breaker_key("sms", "textlocal", "lab1")).items()
    }
    assert stored["label"] == "lab1" and "secret-key" not in str(stored)
    assert set(stored) <= set(breakers.FIELDS)


def test_whatsapp_shares_the_breaker_rules(conn, settings_factory, run_worker, httpserver) -> None:
    settings_factory(BREAKER_FAILURES=2, BREAKER_COOLDOWN=30.0, BREAKER_FAILURE_RATE=0.0)
    httpserver.expect_request("/v21.0/1055/messages").respond_with_data("down", status=503)
    config = {**META, "base_url": httpserver.url_for("/").rstrip("/")}
    task = {"payload": {"task": 5, "gateway": "meta", "config": config, "to": E164, "text": "Your report is ready"}}
    for job_id in ("w-3", "w-2"):
        enqueue("whatsapp", "tasks.whatsapp.send_whatsapp", task, connection=conn, job_id=job_id)
    run_worker(["whatsapp"])
    (view,) = breakers.read_all(conn)
    assert (view.channel, view.gateway, view.state) == ("whatsapp", "meta", "open")
    enqueue("whatsapp", "tasks.whatsapp.send_whatsapp", task, connection=conn, job_id="w-1")
    run_worker(["whatsapp"])
    assert len(httpserver.log) == 2  # the third job made no request
    wait_for(lambda: conn.zscore(contract.SCHEDULER_SET, "w-1"))
    assert conn.hget(contract.job_key("w-1"), contract.RETRY_COUNT) == b"0"


def test_a_failure_rate_above_one_is_refused_by_name() -> None:
    from config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="BREAKER_FAILURE_RATE: must be <= 1"):
        load_settings("instance", env={"CRELIO_DEPLOYMENT_MODE": "TEST", "BREAKER_FAILURE_RATE": "1.5"})
    assert load_settings("instance", env={"BREAKER_FAILURE_RATE": "1"}).BREAKER_FAILURE_RATE == 1.0
