"""Leases on Redis' clock, and never shortened: a late renewal (a thread that waited seconds for
the interpreter lock between reading a clock and sending its call) cannot make a live claim
look expired."""

from __future__ import annotations

import time

from rq_ext import contract, recovery, scripts
from rq_ext.keeper import RENEW_OWNED, LeaseKeeper


def server_now(conn) -> float:
    seconds, micros = conn.time()
    return seconds + micros / 1e6


def test_renew_extends_on_the_server_clock(conn):
    conn.zadd(contract.CLAIMS, {"j-1": 1.0})  # long expired
    recovery.renew(conn, ["j-1", "not-claimed"], type("S", (), {"CLAIM_LEASE": 10})())
    assert abs(conn.zscore(contract.CLAIMS, "j-1") - (server_now(conn) + 10)) < 1
    assert conn.zscore(contract.CLAIMS, "not-claimed") is None  # renewal never claims


def test_a_late_renewal_never_shortens_a_lease(conn):
    later = server_now(conn) + 600
    conn.zadd(contract.CLAIMS, {"j-1": later})
    assert scripts.run(conn, scripts.RENEW, [contract.CLAIMS], [10, "j-1"]) == 0
    assert conn.zscore(contract.CLAIMS, "j-1") == later


def test_the_keeper_renews_only_its_own_and_never_shortens(conn):
    now = server_now(conn)
    conn.zadd(contract.CLAIMS, {"mine-old": 1.0, "mine-far": now + 600, "theirs": 1.0, "done": 1.0})
    conn.hset(contract.job_key("mine-old"), mapping={"worker_name": "w1", "status": "started"})
    conn.hset(contract.job_key("mine-far"), mapping={"worker_name": "w1", "status": "started"})
    conn.hset(contract.job_key("theirs"), mapping={"worker_name": "w2", "status": "started"})
    conn.hset(contract.job_key("done"), mapping={"worker_name": "w1", "status": "finished"})
    assert scripts.run(conn, RENEW_OWNED, [contract.CLAIMS], ["w1", 10]) == 1
    assert conn.zscore(contract.CLAIMS, "mine-old") > now + 9
    assert conn.zscore(contract.CLAIMS, "mine-far") == now + 600
    assert conn.zscore(contract.CLAIMS, "theirs") == 1.0
    assert conn.zscore(contract.CLAIMS, "done") == 1.0


def test_recovery_reads_the_server_clock_not_its_argument(conn):
    """A recoverer whose own clock (or call) is late cannot take a claim that is still leased."""
    conn.zadd(contract.CLAIMS, {"j-1": server_now(conn) + 5})
    conn.hset(contract.job_key("j-1"), mapping={"status": "started", "origin": "sms"})
    result = scripts.run(conn, scripts.RECOVER, [contract.CLAIMS], [time.time() + 3600, 100, 3])
    assert result == [[], [], []]
    assert conn.zscore(contract.CLAIMS, "j-1") is not None


def test_a_stopped_keeper_is_never_started_again_by_the_housekeeper(settings):
    """The housekeeper's restart chore after (or racing) a stop leaked a keeper that outlived its
    worker, renewing leases for a worker that was gone."""
    keeper = LeaseKeeper(settings, "w-stopped")
    keeper.start()
    process = keeper.process
    assert process is not None
    process.kill()
    process.wait(5)
    keeper.stop()  # the chore may come right after, seeing the dead process it held
    keeper.ensure_running()
    assert keeper.process is None
    keeper.start()  # a new start (a restarted worker) works again
    try:
        assert keeper.process is not None and keeper.process.poll() is None
    finally:
        keeper.stop()
