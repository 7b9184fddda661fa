"""Soaks: a worker's resident memory stays flat over many jobs.

The concurrent class takes 200,000 trivial jobs; the forking class's parent (it forks a horse per
job) a few thousand. RSS (``VmRSS`` of ``/proc/<pid>/status``) is sampled every second; after the
warm-up it must not grow by 5 MB or more. Run with ``pytest -s`` to see the series and jobs/s.

On a failure, rerun with ``FW_SOAK_TRACEMALLOC=1``: the worker then runs under ``tracemalloc``
(``PYTHONTRACEMALLOC=5``, about twice as slow; the 200,000 jobs become 60,000), dumps a heap
snapshot at the warm-up and at the end (the job ``tests.jobs_load.heap_snapshot``, run by the
worker on its own heap; for the forking class, by a horse on its copy of the parent's heap), and
the test prints the allocation sites that grew most.
"""

from __future__ import annotations

import os
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rq_ext import contract, enqueue
from tests.conftest import start_worker_process, wait_for
from tests.jobs_load import JOBS_LOAD_ALLOWLIST

TRACE = os.environ.get("FW_SOAK_TRACEMALLOC") == "1"
ENV = {"JOB_FUNCTION_ALLOWLIST": JOBS_LOAD_ALLOWLIST, "LOG_LEVEL": "WARNING"}
GROWTH_LIMIT_KB = 5 * 1024
QUEUE = "sms"

#: KEYS: queue key, queues set, wake key. ARGV: id prefix, first number, count, then the
#: template job hash (field, value, ...). Writes ``count`` copies of the hash and pushes their
#: ids with priority 0: what ``rq_ext.enqueue`` writes for each, in one call for the batch.
BULK = """
local n0, count = tonumber(ARGV[2]), tonumber(ARGV[3])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local scored = {}
for i = n0, n0 + count - 1 do
  local id = ARGV[1] .. i
  redis.call('HSET', 'rq:job:' .. id, unpack(fields))
  scored[#scored + 1] = 0
  scored[#scored + 1] = id
  if #scored >= 2000 then redis.call('ZADD', KEYS[1], unpack(scored)); scored = {} end
end
if #scored > 0 then redis.call('ZADD', KEYS[1], unpack(scored)) end
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('RPUSH', KEYS[3], 1)
redis.call('LTRIM', KEYS[3], -@WAKE_CAP@, -1)
return count
""".replace("@WAKE_CAP@", str(contract.WAKE_CAP))


class Producer:
    """Writes jobs of ``func`` in batches, as ``rq_ext.enqueue`` writes them (its own hash, copied)."""

    def __init__(self, conn: Any, func: str, prefix: str) -> None:
        template = enqueue(QUEUE, func, {}, connection=conn, job_id=f"{prefix}template")
        self.fields = [v for pair in conn.hgetall(template.key).items() for v in pair]
        conn.delete(template.key)
        conn.zrem(contract.queue_key(QUEUE), template.id)
        self.conn, self.prefix, self.written = conn, prefix, 0
        self.script = conn.register_script(BULK)
        self.keys = [contract.queue_key(QUEUE), contract.QUEUES_SET, contract.wake_key(QUEUE)]

    def write(self, count: int) -> None:
        self.script(keys=self.keys, args=[self.prefix, self.written, count, *self.fields])
        self.written += count

    def top_up(self, total: int, depth: int, batch: int) -> None:
        """Keep about ``depth`` jobs waiting until ``total`` are written."""
        while self.written < total and self.conn.zcard(self.keys[0]) < depth:
            self.write(min(batch, total - self.written))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def done_count(conn: Any, worker_name: str) -> int:
    return int(conn.hget(f"rq:worker:{worker_name}", "successful_job_count") or 0)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def snapshot(conn: Any, path: Path, timeout: float = 30) -> tracemalloc.Snapshot:
    """The worker's heap, from a job it runs on itself (it must run under ``tracemalloc``)."""
    job = enqueue(QUEUE, "tests.jobs_load.heap_snapshot", {"path": str(path)}, priority=100, connection=conn)
    wait_for(lambda: conn.get(f"done:{job.id}"), timeout=timeout, interval=0.2)
    return tracemalloc.Snapshot.load(str(path))


def soak(
    conn: Any,
    procs: list[subprocess.Popen[bytes]],
    url: str,
    tmp_path: Path,
    label: str,
    total: int,
    warm_up: int,
    worker_args: list[str],
    depth: int,
    batch: int,
    timeout: float,
) -> None:
    name = f"soak-{label}"
    producer = Producer(conn, "tests.jobs_load.trivial", f"{label}-")
    producer.top_up(total, depth, batch)
    env = {**ENV, "PYTHONTRACEMALLOC": "5"} if TRACE else ENV
    worker = start_worker_process(url, "--customq", QUEUE, "--name", name, *worker_args, **env)
    procs.append(worker)
    wait_for(lambda: done_count(conn, name) > 0 or worker.poll() is not None, timeout=30)
    started, series, warm, heaps = time.monotonic(), [], None, []
    next_sample = started
    deadline = started + timeout
    while True:
        assert worker.poll() is None, f"worker exited: {Path(worker.log_path).read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"{label}: only {done_count(conn, name)}/{total} jobs in {timeout}s"
        producer.top_up(total, depth, batch)
        done = done_count(conn, name)
        if time.monotonic() >= next_sample or done >= total + len(heaps):
            next_sample += 1.0
            series.append((round(time.monotonic() - started, 1), done, rss_kb(worker.pid)))
            if warm is None and done >= warm_up:
                warm = series[-1]
                if TRACE:
                    heaps.append(snapshot(conn, tmp_path / "warm.snapshot"))
        if done >= total + len(heaps):  # the snapshot jobs count as jobs done
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    if TRACE:
        heaps.append(snapshot(conn, tmp_path / "end.snapshot"))
    assert warm is not None
    after = [rss for _, done, rss in series if done >= warm[1]]
    growth, end = max(after) - warm[2], series[-1][2]
    print(
        f"\nsoak {label}: {total} jobs in {elapsed:.1f}s ({total / elapsed:.0f} jobs/s); RSS at warm-up "
        f"({warm[1]} jobs) {warm[2] / 1024:.1f} MB, end {end / 1024:.1f} MB, max growth {growth / 1024:.2f} MB"
    )
    print("  (s, jobs, RSS kB): " + " ".join(f"({t}, {d}, {r})" for t, d, r in series))
    sites = ""
    if TRACE:
        top = heaps[1].compare_to(heaps[0], "lineno")[:15]
        sites = "\n".join(str(stat) for stat in top)
        print(f"  tracemalloc, top growth since warm-up:\n{sites}")
    assert growth < GROWTH_LIMIT_KB, f"{label}: RSS grew {growth / 1024:.1f} MB after warm-up (series above)" + (
        f"; top allocation sites:\n{sites}" if TRACE else "; rerun with FW_SOAK_TRACEMALLOC=1 for allocation sites"
    )
    assert conn.zcard(contract.CLAIMS) == 0 or wait_for(lambda: conn.zcard(contract.CLAIMS) == 0, timeout=10)


@pytest.mark.timeout(240)  # in the default suite: ~45 s here (2 cores); bounded at 150 s below
def test_concurrent_worker_memory_stays_flat_over_200k_jobs(conn, settings, redis_server, procs, tmp_path):
    total = 60_000 if TRACE else 200_000
    soak(
        conn,
        procs,
        redis_server.url,
        tmp_path,
        "concurrent",
        total=total,
        warm_up=20_000,
        worker_args=["--concurrency", "32"],
        depth=20_000,
        batch=5_000,
        timeout=150,
    )


@pytest.mark.timeout(300)
def test_forking_worker_parent_memory_stays_flat(conn, settings, redis_server, procs, tmp_path):
    soak(
        conn,
        procs,
        redis_server.url,
        tmp_path,
        "fork",
        total=2_000,
        warm_up=400,
        worker_args=["--worker-class", "fork"],
        depth=500,
        batch=500,
        timeout=200,  # a time budget, not a figure: a work horse per job, on a slow or loaded machine
    )
