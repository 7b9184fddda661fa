"""``python -m bench.redis_clients`` runs both clients against its own redis-server and prints a
row per call shape with a ratio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_prints_every_shape_for_both_clients() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.redis_clients", "--calls", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    rows = [line for line in out.splitlines() if line.startswith("| ") and line.rstrip().endswith("x |")]
    assert len(rows) == 3, out
    assert "redis-py asyncio" in out and "rq_ext.resp" in out
