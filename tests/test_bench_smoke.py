"""The benchmark's smallest scenario, in-process: no-op jobs for stock rq's SimpleWorker and
Fusion's in-process and concurrent workers. Asserts behaviour only (every job ran exactly once,
the JSON document has its keys), never timings."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import configure, load_settings


@pytest.fixture
def restore_process_state() -> Iterator[None]:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    configure(load_settings("instance", env={"CRELIO_DEPLOYMENT_MODE": "TEST"}))


def test_quick_noop_in_process_runs_every_job_once(tmp_path: Path, restore_process_state: None) -> None:
    from bench.run import main

    out = tmp_path / "latest.json"
    document = main(["--quick", "--only", "noop", "--in-process", "--jobs", "12", "--silent", "--out", str(out)])

    assert json.loads(out.read_text()) == json.loads(json.dumps(document))
    assert {"meta", "summary", "raw"} <= set(document)
    assert {"cpus", "python", "rq", "commit", "command", "runs"} <= set(document["meta"])
    rows = document["summary"]["noop"]
    assert [r["worker"] for r in rows] == ["rq SimpleWorker", "FusionSimpleWorker", "FusionConcurrentWorker c=4"]
    for row in rows:
        assert {"jobs_per_s", "x_rq_simple", "commands_per_job", "commands_vs_pair", "commands_breakdown"} <= set(row)
        assert row["jobs"] == 12
        assert row["all_finished"], row
        assert row["each_ran_once"], row
        assert row["jobs_per_s"] > 0 and row["commands_per_job"] > 0
    targets = {t["target"] for t in document["summary"]["targets"]}
    assert "no-op, FusionSimpleWorker vs rq SimpleWorker" in targets
