"""An open circuit breaker shows in ``info`` (text and JSON), the dashboard's API and the
Prometheus metrics; a closed one leaves ``info`` quiet. Labels only, never credentials."""

from __future__ import annotations

import json
import sys
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

import errors
from rq_ext import breakers
from rq_ext.dashboard.app import create_app
from rq_ext.metrics import QueueCollector
from tasks.gateways.accounts import Account
from tasks.gateways.breaker import Breaker, Policy
from tests.conftest import dashboards_stopped_at_end
from tests.dashboard_browser import (
    Dashboard,
    make_driver,
    open_page,
    screenshot,
    skip_without_browser,
    texts,
    wait_until,
)
from tests.test_operator import run

SECRET = "sk_live_BREAKER_SECRET"
ACCOUNT = Account("textlocal", {"api_key": SECRET}, "lab1")
RULE = Policy(failures=2, rate=0.0, min_calls=1, window_ms=0, cooldown_ms=60_000, probe_ms=5000)


@pytest.fixture(autouse=True)
def dashboards_stopped(monkeypatch):
    yield from dashboards_stopped_at_end(monkeypatch, sys.modules[__name__])


def trip(conn, skips: int = 1) -> None:
    breaker = Breaker(conn, ACCOUNT, "sms", RULE)
    for _ in range(2):
        breaker.failed(breaker.admit(), errors.ProviderUnavailable("HTTP 503"))
    for _ in range(skips):
        try:
            breaker.admit()
        except errors.CircuitOpen:
            pass


def test_info_lists_open_breakers(conn, redis_server) -> None:
    assert "circuit breaker" not in run(redis_server.url, "info").stdout
    trip(conn)
    text = run(redis_server.url, "info").stdout
    assert "1 circuit breaker(s) not closed" in text
    assert "sms textlocal/lab1: open for" in text and "last failure ProviderUnavailable" in text
    (row,) = json.loads(run(redis_server.url, "info", "--json").stdout)["breakers"]
    assert (row["channel"], row["gateway"], row["account"], row["state"]) == ("sms", "textlocal", "lab1", "open")
    assert 50 < row["remaining_s"] <= 60 and row["until"] > time.time()
    assert SECRET not in text


def test_the_dashboard_shows_them(conn, settings_factory) -> None:
    trip(conn)
    client = create_app(conn, settings_factory()).test_client()
    overview = client.get("/api/overview").get_json()
    (row,) = overview["breakers"]
    assert (row["state"], row["failures"], row["trips"]) == ("open", 2, 1)
    assert any(w.startswith("circuit breaker sms textlocal/lab1: open for") for w in overview["warnings"])
    listed = client.get("/api/breakers").get_json()["breakers"]
    assert [(b["gateway"], b["account"], b["state"]) for b in listed] == [("textlocal", "lab1", "open")]
    assert SECRET not in client.get("/api/overview").get_data(as_text=True)


def test_half_open_and_closed_states_read_back(conn) -> None:
    rule = Policy(failures=2, rate=0.0, min_calls=1, window_ms=0, cooldown_ms=200, probe_ms=5000)
    breaker = Breaker(conn, ACCOUNT, "sms", rule)
    for _ in range(2):
        breaker.failed(breaker.admit(), errors.ProviderUnavailable("HTTP 503"))
    time.sleep(0.25)
    assert [v.state for v in breakers.read_all(conn)] == ["half_open"]
    ticket = breaker.admit()
    assert ticket.probe and breakers.read_all(conn)[0].probing
    breaker.succeeded(ticket)
    (view,) = breakers.read_all(conn)
    assert (view.state, view.failures, view.trips) == ("closed", 0, 1)
    assert breakers.render([view.as_dict()]) == []


def test_metrics_expose_states_trips_and_skips(conn) -> None:
    trip(conn, skips=3)
    registry = CollectorRegistry()
    registry.register(QueueCollector(conn))
    text = generate_latest(registry).decode()
    assert 'fusion_breakers{state="open"} 1.0' in text
    assert 'fusion_breakers{state="closed"} 0.0' in text
    assert 'fusion_breaker_state{account="lab1",channel="sms",gateway="textlocal"} 1.0' in text
    assert 'fusion_breaker_trips_total{channel="sms",gateway="textlocal"} 1.0' in text
    assert 'fusion_breaker_skips_total{channel="sms",gateway="textlocal"} 3.0' in text
    assert SECRET not in text


@skip_without_browser()
def test_the_overview_page_has_a_breaker_table(conn, redis_server) -> None:
    trip(conn)
    dashboard, driver = Dashboard(redis_server.url), make_driver()
    try:
        open_page(driver, dashboard.url + "/")
        assert wait_until(driver, lambda d: texts(d, "#breakers tbody tr td:nth-child(3)") == ["open"])
        assert texts(driver, "#breakers tbody tr td:nth-child(2)") == ["textlocal/lab1"]
        assert any("circuit breaker sms textlocal/lab1" in w for w in texts(driver, "#warnings li"))
        screenshot(driver, "overview-breaker")
    finally:
        driver.quit()
        dashboard.stop()
