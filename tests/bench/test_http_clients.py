"""The HTTP client measurement (``bench/http_clients.py``, issue 16), with tiny numbers: two
clients, 50 requests at concurrency 8, one round. Asserts behaviour only (every request answered,
keep-alive, the JSON document has its fields), never timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RUN_FIELDS = {
    "client",
    "concurrency",
    "requests",
    "capped",
    "round",
    "wall_s",
    "req_per_s",
    "pct_ideal",
    "cpu_us_per_req",
    "client_cpu_pct",
    "provider_cpu_pct",
    "other_cpu_pct",
    "added_p50_ms",
    "added_p99_ms",
    "provider_requests",
    "provider_connections",
}
ROW_FIELDS = {
    "client",
    "concurrency",
    "rounds",
    "capped_rounds",
    "requests",
    "ideal",
    "req_per_s",
    "x_best",
    "pct_ideal",
    "cpu_us_per_req",
    "cpu_x_least",
    "client_cpu_pct",
    "provider_cpu_pct",
    "other_cpu_pct",
    "added_p50_ms",
    "added_p99_ms",
    "provider_connections",
}


def test_two_clients_tiny_run_writes_every_field(tmp_path: Path) -> None:
    from bench.http_clients import main

    out = tmp_path / "clients.json"
    clients = ["aiohttp-uvloop", "urllib3-threads"]
    args = ["--rounds", "1", "--requests", "50", "--concurrency", "8", "--clients", ",".join(clients)]
    document = main([*args, "--json", str(out), "--silent"])

    assert json.loads(out.read_text()) == json.loads(json.dumps(document))
    assert {"meta", "summary", "runs"} <= set(document)
    assert {
        "command",
        "nproc",
        "cpu_model",
        "versions",
        "delay_s",
        "rounds",
        "budget_s",
        "body_bytes",
        "skipped",
        "note",
    } <= set(document["meta"])
    assert document["meta"]["skipped"] == {}
    assert 150 <= document["meta"]["body_bytes"] <= 250
    assert [r["client"] for r in document["runs"]] == clients
    for run in document["runs"]:
        assert set(run) >= RUN_FIELDS, run
        assert run["requests"] == 50 and run["concurrency"] == 8 and not run["capped"]
        assert run["provider_requests"] == 50 + 2 * 8  # the timed run and the warm-up, nothing lost or resent
        assert run["provider_connections"] <= 8  # keep-alive: one pool of c connections
        assert run["req_per_s"] > 0 and run["cpu_us_per_req"] > 0
    rows = document["summary"]
    assert [(r["client"], r["concurrency"]) for r in rows] == [(c, 8) for c in clients]
    for row in rows:
        assert set(row) >= ROW_FIELDS, row
        assert row["ideal"] == pytest.approx(8 / 0.05)
        assert 0 < row["x_best"] <= 1
    assert max(r["x_best"] for r in rows) == 1


def test_a_client_whose_module_does_not_import_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import http_clients

    monkeypatch.setitem(http_clients.NEEDS, "pycurl-multi", ["no_such_module_for_the_bench"])
    reasons = http_clients.unavailable(["pycurl-multi", "aiohttp-uvloop"])
    assert list(reasons) == ["pycurl-multi"]
    assert "no_such_module_for_the_bench" in reasons["pycurl-multi"]
