"""The smpp gateway's bind against a real SMSC (tests/smsc/server.js): one bind per account per
process shared by threads and by the concurrent worker, keep-alive, delivery receipts answered,
rebinding after a restart, a dropped or silent SMSC, a later part retried in place, and a fork."""

from __future__ import annotations

import json
import os
import threading

import pytest

import errors
from rq_ext import enqueue
from tasks.gateways.smpp import pool
from tasks.sms import send_sms
from tests.conftest import free_port, wait_for
from tests.sms.harness import NUMBER, TEXT
from tests.sms.smsc import Smsc

DEST = NUMBER.lstrip("+")


def sms(simulator: Smsc, to: str = NUMBER, message: str = TEXT, **config: object) -> dict:
    payload = {"task": 1, "gateway": "smpp", "config": simulator.config(**config), "to": to, "message": message}
    return send_sms({"payload": payload})


def test_threads_share_one_bind(smsc: Smsc, settings) -> None:
    results: list[str] = []
    failures: list[BaseException] = []

    def send(index: int) -> None:
        try:
            for n in range(3):
                results.append(sms(smsc, to=f"+9198000{index:02d}{n:03d}")["provider_message_id"])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(smsc.pdus("bind_transceiver")) == 1
    submits = smsc.pdus("submit_sm")
    assert len(submits) == 24 and sorted(results) == sorted(s["message_id"] for s in submits)
    assert len({s["sequence_number"] for s in submits}) == 24


def test_the_concurrent_worker_shares_one_bind(smsc: Smsc, conn, settings, httpserver) -> None:
    from rq_ext.concurrent import FusionConcurrentWorker
    from tests.conftest import worker_runner

    httpserver.expect_request("/done").respond_with_data("ok")
    for index in range(8):
        task = {"payload": {"task": 1, "gateway": "smpp", "config": smsc.config(), "to": f"+91980000{index:04d}"}}
        task["payload"]["message"] = TEXT
        enqueue("sms", "tasks.sms.send_sms", task, connection=conn, job_id=f"smpp-{index}",
                success_task_handler=httpserver.url_for("/done"))  # fmt: skip
    worker_runner(conn, FusionConcurrentWorker, concurrency=4)(["sms"])
    wait_for(lambda: len([r for r, _ in httpserver.log if r.path == "/done"]) == 8)
    assert len(smsc.pdus("bind_transceiver")) == 1 and len(smsc.pdus("submit_sm")) == 8
    ids = {r.form["provider_message_id"] for r, _ in httpserver.log if r.path == "/done"}
    assert ids == {s["message_id"] for s in smsc.pdus("submit_sm")}


def test_the_forking_worker_binds_in_each_work_horse(smsc: Smsc, conn, settings) -> None:
    from rq.job import Job

    from rq_ext.worker import FusionWorker
    from tests.conftest import worker_runner

    for index in range(2):
        payload = {
            "task": 1,
            "gateway": "smpp",
            "config": smsc.config(),
            "to": f"+91980001{index:04d}",
            "message": TEXT,
        }
        enqueue("sms", "tasks.sms.send_sms", {"payload": payload}, connection=conn, job_id=f"smpp-fork-{index}")
    worker_runner(conn, FusionWorker)(["sms"])
    assert [Job.fetch(f"smpp-fork-{i}", connection=conn).get_status() for i in range(2)] == ["finished"] * 2
    assert len(smsc.pdus("bind_transceiver")) == 2 and len(smsc.pdus("submit_sm")) == 2


def test_enquire_link_keeps_an_idle_bind_alive(smsc: Smsc, settings) -> None:
    sms(smsc, enquire_link_interval=0.3)
    smsc.wait_for("enquire_link", count=2)
    assert len(smsc.pdus("bind_transceiver")) == 1
    sms(smsc, enquire_link_interval=0.3)
    assert len(smsc.pdus("bind_transceiver")) == 1


def test_delivery_receipts_are_acknowledged(smsc: Smsc, settings) -> None:
    sms(smsc, registered_delivery=1, enquire_link_interval=0.3)
    (resp,) = smsc.wait_for("deliver_sm_resp")
    assert resp["status"] == 0
    sms(smsc, registered_delivery=1, enquire_link_interval=0.3)
    assert len(smsc.pdus("bind_transceiver")) == 1


def test_after_a_restart_the_next_job_binds_again(smsc: Smsc, settings) -> None:
    sms(smsc)
    smsc.kill()
    smsc.start()
    result = sms(smsc)
    assert len(smsc.pdus("bind_transceiver")) == 2
    assert result["provider_message_id"] == smsc.pdus("submit_sm")[-1]["message_id"]


def test_an_smsc_that_is_down_is_retryable(settings) -> None:
    config = {"host": "127.0.0.1", "port": free_port(), "system_id": "clinic", "password": "secret"}
    payload = {"task": 1, "gateway": "smpp", "config": config, "to": NUMBER, "message": TEXT}
    with pytest.raises(errors.ProviderUnavailable, match="nothing sent"):
        send_sms({"payload": payload})
    pool.close_all()


def test_a_connection_dropped_mid_submit_is_retryable_and_warns_of_a_resend(smsc: Smsc, settings) -> None:
    smsc.control(drop=[DEST])
    with pytest.raises(errors.ProviderUnavailable, match="may have accepted"):
        sms(smsc)
    smsc.control()
    assert sms(smsc)["provider_message_id"]
    assert len(smsc.pdus("bind_transceiver")) == 2


def test_a_silent_smsc_times_out(smsc: Smsc, settings_factory) -> None:
    settings_factory(PROVIDER_TIMEOUT=0.5)
    smsc.control(silent=[DEST])
    with pytest.raises(errors.DeliveryTimeout, match="may have accepted"):
        sms(smsc)
    smsc.control()
    assert sms(smsc)["provider_message_id"]
    assert len(smsc.pdus("bind_transceiver")) == 2


def test_a_throttled_later_part_is_submitted_again_in_place(smsc: Smsc, settings) -> None:
    smsc.control(script={DEST: [0, 0x58]})
    result = sms(smsc, message="Your lab report LAB-42 is ready. " * 6)
    submits = smsc.pdus("submit_sm")
    assert [s["answer"] for s in submits] == [0, 0x58, 0]
    assert submits[1]["short_message"] == submits[2]["short_message"]  # same part, same reference
    assert result["provider_message_id"] == f"{submits[0]['message_id']};{submits[2]['message_id']}"


def test_a_throttled_first_part_fails_the_job(smsc: Smsc, settings) -> None:
    smsc.control(script={DEST: [0x58]})
    with pytest.raises(errors.RateLimited):
        sms(smsc, message="Your lab report LAB-42 is ready. " * 6)
    assert len(smsc.pdus("submit_sm")) == 1


def test_a_forked_child_binds_on_its_own(smsc: Smsc, settings) -> None:
    sms(smsc)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: a work horse
        try:
            outcome = {"id": sms(smsc)["provider_message_id"]}
        except BaseException as exc:
            outcome = {"error": repr(exc)}
        os.write(write, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    outcome = json.loads(os.read(read, 4096))
    os.close(read)
    assert "id" in outcome, outcome
    binds = smsc.pdus("bind_transceiver")
    assert len(binds) == 2
    sms(smsc)  # the parent's bind is still its own, and still works
    sessions = [s["session"] for s in smsc.pdus("submit_sm")]
    assert sessions == [binds[0]["session"], binds[1]["session"], binds[0]["session"]]
