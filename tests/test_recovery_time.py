"""How long a dead worker's job takes to come back, with the default lease and recovery interval;
that a live worker's long jobs are never recovered; and that a same-name restart puts its dead
predecessor's jobs back at once.

Run with ``pytest -s`` to see the measured times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rq_ext import contract, enqueue
from tests.conftest import start_worker_process, wait_for
from tests.jobs_load import JOBS_LOAD_ALLOWLIST
from tests.test_processes import children

#: The production defaults (``config.Settings``), passed explicitly: ``instance/test.py`` sets
#: ``RECOVERY_INTERVAL = 1.0``.
DEFAULTS = {"CLAIM_LEASE": 10, "RECOVERY_INTERVAL": 2.0, "JOB_FUNCTION_ALLOWLIST": JOBS_LOAD_ALLOWLIST}
#: Longer than a recovery pass of the defaults.
RECOVERY_PASS = 2.5
CLASS_ARGS = {
    "fork": ["--worker-class", "fork"],
    "simple": ["--worker-class", "simple"],
    "concurrent": ["--worker-class", "concurrent", "--concurrency", "4"],
    "async": ["--worker-class", "async", "--concurrency", "4"],
}


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes a test starts; every one still running is killed (with its horses) at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            kill_9(proc)


def spawn(procs: list[subprocess.Popen[bytes]], url: str, *args: str, **env: Any) -> subprocess.Popen[bytes]:
    proc = start_worker_process(url, *args, **{**DEFAULTS, **env})
    procs.append(proc)
    return proc


def kill_9(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and its work horses, and reap it (no zombie left to look alive).

    A horse calls ``setpgrp()``: it leads a process group of its own, which is killed whole. The
    worker itself shares pytest's process group, so it is killed by pid (``killpg`` would kill
    the test run). The worker goes first: a worker that saw its horse die would fail the job."""
    horses = [(pid, _leads_group(pid)) for pid in children(proc.pid)]
    _signal(os.kill, proc.pid)
    for pid, leader in horses:
        _signal(os.killpg if leader else os.kill, pid)
    proc.wait(timeout=10)


def _signal(send: Any, pid: int) -> None:
    try:
        send(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid and pid != os.getpgrp()
    except ProcessLookupError:
        return False


def registered(conn: Any, count: int) -> bool:
    """At least ``count`` workers have registered (``rq:workers``): they are past their start."""
    return conn.scard("rq:workers") >= count


def log_of(proc: subprocess.Popen[bytes]) -> str:
    return Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


def back_or_rerun(conn: Any, job_id: str, queue: str) -> bool:
    """The job is back in its queue, or has been claimed again and started a second run."""
    return conn.zscore(f"rq:queue:{queue}", job_id) is not None or int(conn.get(f"runs:{job_id}") or 0) >= 2


# -- 1. recovery time after kill -9 ------------------------------------------------------------


@pytest.mark.parametrize("cls", ["fork", "simple", "concurrent", "async"])
def test_recovery_time_after_kill_9(cls, conn, settings, redis_server, procs):
    job = enqueue("sms", "tests.jobs_load.sleepy", {"seconds": 30, "then": 0.2}, priority=5, connection=conn)
    victim = spawn(procs, redis_server.url, "--customq", "sms", *CLASS_ARGS[cls])
    wait_for(lambda: conn.get(f"runs:{job.id}") == b"1", timeout=30)
    if cls == "fork":
        assert children(victim.pid), "the forking worker should have a work horse"
    rescuer = spawn(procs, redis_server.url, "--customq", "sms", "--worker-class", "simple")
    wait_for(lambda: registered(conn, 2), timeout=30)
    kill_9(victim)
    killed_at = time.monotonic()
    lease_left = float(conn.zscore(contract.CLAIMS, job.id) or 0) - time.time()
    wait_for(lambda: conn.hget(job.key, "recoveries") is not None or back_or_rerun(conn, job.id, "sms"), timeout=20)
    recovered_after = time.monotonic() - killed_at
    print(f"\nrecovery after kill -9 ({cls}): {recovered_after:.1f}s (lease left at the kill: {lease_left:.1f}s)")
    wait_for(lambda: conn.hget(job.key, "status") == b"finished", timeout=20)
    assert rescuer.poll() is None, log_of(rescuer)
    assert recovered_after < 15, f"{cls}: job back only {recovered_after:.1f}s after the kill"
    assert conn.hget(job.key, "recoveries") == b"1"
    assert conn.get(f"runs:{job.id}") == b"2" and conn.get(f"done:{job.id}") == b"1"
    assert conn.zcard(contract.CLAIMS) == 0


# -- 2. a live worker's long jobs are never recovered ------------------------------------------


def assert_each_ran_once(conn: Any, jobs: list[Any]) -> None:
    recovered = [j.id for j in jobs if conn.hget(j.key, "recoveries") is not None]
    assert not recovered, f"{len(recovered)} jobs of a live worker were recovered: {recovered[:5]}"
    assert [conn.get(f"runs:{j.id}") for j in jobs] == [b"1"] * len(jobs)
    assert [conn.get(f"done:{j.id}") for j in jobs] == [b"1"] * len(jobs)
    assert [conn.hget(j.key, "status") for j in jobs] == [b"finished"] * len(jobs)
    assert conn.zcard(contract.CLAIMS) == 0


@pytest.fixture
def cpu_hogs() -> Iterator[None]:
    """Four processes spinning on the CPU (of two cores): the worker's threads then wait seconds
    for the interpreter lock, as in a busy full-suite run."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4)]
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


def test_busy_concurrent_worker_keeps_its_leases(conn, settings, redis_server, procs, cpu_hogs):
    """64 CPU-bound jobs of 15 s (longer than the 10 s lease) on 64 threads, beside four CPU
    hogs: the leases must hold while another worker runs recovery. (A housekeeper thread starved
    between reading its clock and sending its renewal once wrote leases that were already old
    over the keeper's fresh ones, and all 64 jobs were recovered: leases are on Redis' clock now
    and never shortened.)"""
    jobs = [enqueue("sms", "tests.jobs_load.busy", {"seconds": 15}, connection=conn) for _ in range(64)]
    recoverer = spawn(procs, redis_server.url, "--customq", "email", "--worker-class", "simple")
    wait_for(lambda: registered(conn, 1), timeout=30)
    worker = spawn(procs, redis_server.url, "--customq", "sms", "--concurrency", "64")
    wait_for(lambda: conn.zcard(contract.CLAIMS) == 64, timeout=30)
    claimed = time.monotonic()

    def settled() -> bool:
        """All finished once, or one recovered (fail now, not after its second run)."""
        pipe = conn.pipeline()
        for j in jobs:
            pipe.hget(j.key, "recoveries")
            pipe.get(f"done:{j.id}")
        values = pipe.execute()
        return any(values[0::2]) or all(values[1::2])

    wait_for(settled, timeout=60, interval=0.5)
    elapsed = time.monotonic() - claimed
    print(f"\n64 busy jobs of 15 s: settled {elapsed:.1f}s after the claim")
    recovered = [j.id for j in jobs if conn.hget(j.key, "recoveries") is not None]
    assert not recovered, (
        f"{len(recovered)}/64 jobs of a live, busy worker recovered {elapsed:.1f}s after their claim "
        f"(worker log {worker.log_path}, recoverer log {recoverer.log_path})"
    )
    wait_for(lambda: conn.zcard(contract.CLAIMS) == 0, timeout=20)
    time.sleep(RECOVERY_PASS)  # a recovery pass that wrongly requeued a job would have run by now
    assert worker.poll() is None and recoverer.poll() is None
    assert "recovered abandoned job" not in log_of(recoverer) + log_of(worker)
    assert_each_ran_once(conn, jobs)


def keepers(pid: int) -> list[int]:
    """The worker's lease keeper processes (live ones: a reaped or zombie keeper has no cmdline)."""
    found = []
    for child in children(pid):
        try:
            if b"rq_ext.keeper" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def test_lease_keeper_is_a_fresh_process_that_comes_back(conn, settings, redis_server, procs):
    """The keeper is a fresh interpreter (no lock inherited from the worker's threads); killed,
    another takes over; it dies with its worker."""
    job = enqueue("sms", "tests.jobs_load.sleepy", {"seconds": 20}, connection=conn)
    recoverer = spawn(procs, redis_server.url, "--customq", "email", "--worker-class", "simple")
    worker = spawn(procs, redis_server.url, "--customq", "sms", *CLASS_ARGS["concurrent"])
    wait_for(lambda: conn.get(f"runs:{job.id}") == b"1", timeout=30)
    wait_for(lambda: keepers(worker.pid), timeout=10)
    first = keepers(worker.pid)[0]
    assert Path(f"/proc/{first}/cmdline").read_bytes().split(b"\0")[1:3] == [b"-m", b"rq_ext.keeper"]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: [k for k in keepers(worker.pid) if k != first], timeout=15, interval=0.2)
    assert "lease keeper of" in log_of(worker)
    wait_for(lambda: conn.hget(job.key, "status") == b"finished", timeout=40, interval=0.2)
    time.sleep(RECOVERY_PASS)
    assert worker.poll() is None and recoverer.poll() is None
    assert_each_ran_once(conn, [job])
    second = keepers(worker.pid)[0]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    wait_for(lambda: not Path(f"/proc/{second}").exists() or b"Z" in _state(second), timeout=5, interval=0.1)


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return b"Z"


def test_forking_worker_keeps_the_lease_of_its_horse(conn, settings, redis_server, procs):
    """The horse runs 15 s (longer than the lease): the worker process renews for it."""
    job = enqueue("sms", "tests.jobs_load.sleepy", {"seconds": 15}, connection=conn)
    recoverer = spawn(procs, redis_server.url, "--customq", "email", "--worker-class", "simple")
    wait_for(lambda: registered(conn, 1), timeout=30)
    worker = spawn(procs, redis_server.url, "--customq", "sms", "--worker-class", "fork")
    wait_for(lambda: conn.get(f"runs:{job.id}") == b"1", timeout=30)
    assert children(worker.pid), "the forking worker should have a work horse"
    wait_for(lambda: conn.hget(job.key, "status") == b"finished", timeout=40, interval=0.2)
    time.sleep(RECOVERY_PASS)
    assert worker.poll() is None and recoverer.poll() is None
    assert "recovered abandoned job" not in log_of(recoverer) + log_of(worker)
    assert_each_ran_once(conn, [job])


# -- 3. a same-name restart serves at once -----------------------------------------------------


@pytest.mark.parametrize("cls", ["fork", "concurrent", "async"])
def test_same_name_restart_puts_back_the_dead_ones_jobs(cls, conn, settings, redis_server, procs):
    job = enqueue("sms", "tests.jobs_load.sleepy", {"seconds": 30, "then": 0.2}, priority=3, connection=conn)
    first = spawn(procs, redis_server.url, "--customq", "sms", "--name", "lab-1", *CLASS_ARGS[cls])
    wait_for(lambda: conn.get(f"runs:{job.id}") == b"1", timeout=30)
    assert conn.hget(job.key, "worker_name") == b"lab-1"
    kill_9(first)  # reaped: its pid no longer runs, not even as a zombie
    restarted_at = time.monotonic()
    second = spawn(procs, redis_server.url, "--customq", "sms", "--name", "lab-1", *CLASS_ARGS[cls])
    wait_for(lambda: back_or_rerun(conn, job.id, "sms") or second.poll() is not None, timeout=15, interval=0.02)
    back_after = time.monotonic() - restarted_at
    print(f"\nsame-name restart ({cls}): dead one's job back {back_after:.1f}s after the restart")
    time.sleep(max(0.0, 2.0 - (time.monotonic() - restarted_at)))
    assert second.poll() is None, f"the restarted worker exited:\n{log_of(second)[-2000:]}"
    assert "There exists an active worker named" not in log_of(second)
    assert back_after < 4, f"{cls}: job back only {back_after:.1f}s after the restart (the lease is 10 s)"
    assert conn.hget(job.key, "recoveries") is None  # put back by the namesake, not by lease expiry
    wait_for(lambda: conn.hget(job.key, "status") == b"finished", timeout=15)
    assert conn.get(f"runs:{job.id}") == b"2" and conn.hget(job.key, "worker_name") == b"lab-1"
