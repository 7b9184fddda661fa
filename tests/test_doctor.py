"""``doctor``: each breakage reproduced with rq's own tools, then repaired with no job lost."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from rq.queue import Queue
from rq.utils import utcformat

from rq_ext import contract, doctor, enqueue, orphans
from rq_ext.cli import main
from rq_ext.failures import fail_job_id

RQ = str(Path(sys.executable).parent / "rq")


def _failed_jobs(conn, queue, priorities):
    jobs = []
    for prio in priorities:
        job = enqueue(queue, "tests.jobs.record", {"name": f"p{prio}"}, priority=prio, connection=conn)
        conn.zrem(contract.queue_key(queue), job.id)
        fail_job_id(conn, job.id, queue, "permanent: test")
        jobs.append(job)
    return jobs


def _rq_requeue_all(redis_server, queue):
    return subprocess.run(
        [RQ, "requeue", "--all", "-u", redis_server.url, "--queue", queue], capture_output=True, text=True, timeout=60
    )


def _scores(conn, queue):
    return {contract.text(k): v for k, v in conn.zrange(contract.queue_key(queue), 0, -1, withscores=True)}


def test_rq_requeue_all_into_an_empty_priority_queue_makes_a_list_which_doctor_repairs(conn, settings, redis_server):
    jobs = _failed_jobs(conn, "sms", [5, 9, 1])
    assert _rq_requeue_all(redis_server, "sms").returncode == 0
    assert conn.type("rq:queue:sms") == b"list"  # what rq really does: RPUSH into rq:queue:sms
    [finding] = [f for f in doctor.check_queue_types(conn) if f.key == "rq:queue:sms"]
    assert finding.type == "list" and finding.count == 3
    assert doctor.repair_wrong_types(conn) == {"rq:queue:sms": 3}
    assert conn.type("rq:queue:sms") == b"zset"
    assert _scores(conn, "sms") == {j.id: float(j.priority) for j in jobs}
    assert not doctor.check_queue_types(conn) and not doctor.leftover_keys(conn)


def test_rq_requeue_all_into_a_non_empty_priority_queue_orphans_a_job_which_doctor_puts_back(
    conn, settings, redis_server
):
    waiting = enqueue("email", "tests.jobs.record", {"name": "waiting"}, priority=7, connection=conn)
    jobs = _failed_jobs(conn, "email", [2, 4])
    result = _rq_requeue_all(redis_server, "email")
    assert result.returncode != 0 and "WRONGTYPE" in result.stderr  # rq's RPUSH fails on the sorted set
    # ... after its transaction took the first job out of the failed registry: an orphan.
    left = {contract.text(i) for i in conn.zrange("rq:failed:email", 0, -1)}
    [lost] = [j for j in jobs if j.id not in left]
    assert conn.hget(lost.key, "status") == b"queued" and lost.id not in _scores(conn, "email")
    assert [o.job_id for o in orphans.find_orphans(conn, min_age=0)] == [lost.id]
    assert orphans.find_orphans(conn, min_age=600) == []  # too fresh to call orphaned
    report = doctor.diagnose(conn, fix=True, orphan_age=0)
    assert [f.kind for f in report.findings if f.kind == "orphan"] == ["orphan"]
    assert _scores(conn, "email") == {waiting.id: 7.0, lost.id: float(lost.priority)}
    assert orphans.find_orphans(conn, min_age=0) == []


def test_compact_strands_a_priority_queue_in_a_compact_key_and_doctor_merges_it_back(conn, settings):
    jobs = [enqueue("sms", "tests.jobs.record", {"name": str(i)}, priority=i, connection=conn) for i in range(5)]
    sched = [enqueue("scheduler", "tests.jobs.record", {"name": f"s{i}"}, connection=conn) for i in range(2)]
    try:
        Queue("sms", connection=conn).compact()  # what rq-dashboard's Compact button calls
    except Exception as exc:
        assert "WRONGTYPE" in str(exc)
    Queue("scheduler", connection=conn).compact()  # a list: compacts fine
    [leftover] = doctor.leftover_keys(conn)
    assert leftover.startswith("rq:queue:_compact:") and conn.type("rq:queue:sms") == b"none"
    assert [f.kind for f in doctor.diagnose(conn, orphan_age=0).findings if f.kind != "unserved_queue"] == [
        "compact_key"
    ]
    report = doctor.diagnose(conn, fix=True, orphan_age=0)
    assert [f.fixed for f in report.findings if f.kind == "compact_key"] == [5]
    assert _scores(conn, "sms") == {j.id: float(j.priority) for j in jobs}
    assert [contract.text(i) for i in conn.lrange("rq:queue:scheduler", 0, -1)] == [j.id for j in sched]
    assert not doctor.leftover_keys(conn)


def test_a_job_written_during_the_repair_is_kept(conn, settings):
    jobs = [enqueue("sms", "tests.jobs.record", {"name": str(i)}, priority=i, connection=conn) for i in range(3)]
    conn.delete("rq:queue:sms")
    conn.rpush("rq:queue:sms", *[j.id for j in jobs])  # as rq's requeue leaves it
    temp = doctor.REPAIR_PREFIX + "sms:1"
    assert doctor.scripts.run(conn, doctor._RENAME_LIST, ["rq:queue:sms", temp], []) == 3
    late = enqueue("sms", "tests.jobs.record", {"name": "late"}, priority=50, connection=conn)  # arrives meanwhile
    assert doctor.merge_back(conn, temp, "sms") == (3, 0)
    assert len(_scores(conn, "sms")) == 4 and _scores(conn, "sms")[late.id] == 50.0


def test_an_interrupted_repair_key_is_found_and_merged(conn, settings):
    job = enqueue("sms", "tests.jobs.record", {"name": "x"}, priority=3, connection=conn)
    conn.zrem("rq:queue:sms", job.id)
    conn.rpush(doctor.REPAIR_PREFIX + "sms:123.5", job.id, "no-such-job")
    report = doctor.diagnose(conn, fix=True, orphan_age=0)
    assert [f.fixed for f in report.findings if f.kind == "compact_key"] == [1]
    assert _scores(conn, "sms") == {job.id: 3.0}


def test_stale_worker_keys_are_removed(conn, settings):
    conn.sadd("rq:workers", "rq:worker:gone", "rq:worker:old")
    conn.sadd("rq:workers:sms", "rq:worker:gone", "rq:worker:old")
    old = utcformat(__import__("datetime").datetime.fromtimestamp(time.time() - 3600, __import__("datetime").UTC))
    conn.hset("rq:worker:old", mapping={"last_heartbeat": old, "queues": "sms", "state": "idle"})
    kinds = [f.kind for f in doctor.diagnose(conn, fix=True).findings]
    assert kinds.count("stale_worker") == 2
    assert not conn.smembers("rq:workers") and not conn.smembers("rq:workers:sms") and not conn.exists("rq:worker:old")


def test_cli_exit_codes_and_json(conn, settings, capsys):
    assert main(["doctor", "-u", settings.REDIS_URL]) == 0
    assert "healthy" in capsys.readouterr().out
    enqueue("sms", "tests.jobs.record", {"name": "x"}, connection=conn)  # waits; no worker serves sms
    assert main(["doctor", "-u", settings.REDIS_URL, "--json"]) == 1
    out = capsys.readouterr().out
    assert '"unserved_queue"' in out and '"healthy": false' in out
