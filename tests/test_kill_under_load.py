"""Kill -9 under load: no job lost; a job runs twice only if it was in flight at a kill."""

from __future__ import annotations

import os
import random
import signal
import time

from rq_ext import contract, enqueue
from tests.conftest import start_worker_process, wait_for
from tests.test_processes import children

LEASE = {"CLAIM_LEASE": 2, "RECOVERY_INTERVAL": 0.5}
QUEUES = ["sms", "email", "webhook"]


def spawn(url: str, kind: str):
    args = ["--customq", ",".join(QUEUES)]
    args += ["--concurrency", "8"] if kind == "concurrent" else ["--worker-class", kind]
    args += ["--concurrency", "8"] if kind == "async" else []
    return start_worker_process(url, *args, **LEASE)


def kill_9(proc) -> None:
    for pid in [proc.pid, *children(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


def test_kill_9_under_load(conn, settings, redis_server):
    rng = random.Random(7)
    jobs = [
        enqueue(
            rng.choice(QUEUES),
            "tests.jobs.record",
            {"sleep": rng.choice([0.01, 0.02, 0.3])},
            priority=rng.randint(0, 9),
            connection=conn,
        )
        for _ in range(500)
    ]
    kinds = ["fork", "concurrent", "simple", "async"]
    workers = {kind: spawn(redis_server.url, kind) for kind in kinds}
    in_flight_at_kills: set[str] = set()
    recovery_times: list[float] = []
    try:
        for round_ in range(4):
            time.sleep(rng.uniform(0.8, 1.5))
            kind = kinds[round_ % len(kinds)]
            kill_9(workers[kind])
            killed_at = time.monotonic()
            # Claims right after the kill: the dead worker's jobs (and others' in flight): a superset.
            in_flight = {i.decode() for i in conn.zrange(contract.CLAIMS, 0, -1)}
            in_flight_at_kills |= in_flight
            workers[kind] = spawn(redis_server.url, kind)
            stuck = [j for j in in_flight if conn.zscore(contract.CLAIMS, j) is not None]
            if stuck:
                wait_for(
                    lambda s=stuck: all(
                        conn.hget(f"rq:job:{j}", "status") != b"started" or conn.zscore(contract.CLAIMS, j) is None
                        for j in s
                    ),
                    timeout=60,
                )
                recovery_times.append(time.monotonic() - killed_at)

        def done() -> bool:
            return all(conn.hget(j.key, "status") in (b"finished", b"failed") for j in jobs)

        wait_for(done, timeout=240, interval=0.5)
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    runs = {j.id: int(conn.get(f"runs:{j.id}") or 0) for j in jobs}
    assert all(n >= 1 for n in runs.values()), "a job was lost"
    twice = {job_id for job_id, n in runs.items() if n > 1}
    assert twice <= in_flight_at_kills, "a job not in flight at a kill ran twice"
    assert all(conn.hget(j.key, "status") == b"finished" for j in jobs)
    print(
        f"\nkill -9 under load: 500 jobs, {len(in_flight_at_kills)} in flight at kills, "
        f"{len(twice)} ran twice, recovery times {[round(t, 1) for t in recovery_times]} s"
    )
