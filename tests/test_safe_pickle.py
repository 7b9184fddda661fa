"""The restricted unpickler: plain data and the safe classes load at every protocol; any other
global is refused before its module is imported or anything is called, and the worker goes on."""

from __future__ import annotations

import datetime
import decimal
import os
import pickle
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job

from errors import DisallowedPickle
from rq_ext import contract, enqueue
from rq_ext.connection import serializer_from_settings
from wrappers.safe_pickle import SafePickleSerializer, restricted_loads

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
CANARY = "tests.pickle_canary"


class Evil:
    """Runs ``os.system`` when unpickled by a plain ``pickle.loads``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.marker}",))


class EvilEx:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (subprocess.Popen, (["touch", str(self.marker)],))


def task(hidden: Any = None) -> dict[str, Any]:
    return {"payload": {"task": 4, "url": "http://127.0.0.1:9/h", "json": {"deep": [{"x": hidden}]}}}


PLAIN = [
    ("tasks.webhooks.send_webhook", None, [task("ok")], {}),
    {"tuple": (1, 2), "list": [1, [2]], "set": {1, 2}, "frozenset": frozenset({"a"}), "str": "नमस्ते"},
    [b"bytes", bytearray(b"array"), 1, 2**80, -1.5, 1 + 2j, True, False, None],
    [datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC), datetime.date(2026, 1, 2)],
    [datetime.time(1, 2, 3), datetime.timedelta(days=1, seconds=2), datetime.timezone(datetime.timedelta(hours=5))],
    [decimal.Decimal("9.10"), uuid.UUID("12345678-1234-5678-1234-567812345678")],
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("value", PLAIN, ids=["job", "containers", "scalars", "dates", "times", "decimal-uuid"])
def test_plain_data_and_safe_classes_load(settings, value, protocol):
    assert restricted_loads(pickle.dumps(value, protocol=protocol)) == value


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stock_rq_job_reads_unchanged(conn, settings, protocol):
    """What stock rq writes (``Job.create`` + zlib) reads back through the restricted serializer."""
    job = Job.create(func="tasks.webhooks.send_webhook", args=[task("x")], connection=conn)
    job.save()
    raw = zlib.compress(pickle.dumps(("tasks.webhooks.send_webhook", None, [task("x")], {}), protocol=protocol))
    conn.hset(job.key, "data", raw)
    loaded = Job.fetch(job.id, connection=conn, serializer=SafePickleSerializer)
    assert loaded.func_name == "tasks.webhooks.send_webhook"
    assert loaded.args == [task("x")]
    assert serializer_from_settings(settings) is SafePickleSerializer


def where(kind: str, bomb: Any) -> Any:
    """The job tuple with ``bomb`` hidden in its data, args, kwargs or deep in the task."""
    return {
        "data": bomb,
        "instance": ("tasks.webhooks.send_webhook", bomb, [task()], {}),
        "args": ("tasks.webhooks.send_webhook", None, [bomb], {}),
        "kwargs": ("tasks.webhooks.send_webhook", None, [task()], {"x": bomb}),
        "deep": ("tasks.webhooks.send_webhook", None, [task([{"a": ({"b": bomb},)}])], {}),
    }[kind]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", ["data", "instance", "args", "kwargs", "deep"])
@pytest.mark.parametrize("cls", [Evil, EvilEx])
def test_reduce_payloads_refused_everywhere(settings, tmp_path, cls, kind, protocol):
    marker = tmp_path / "pwned"
    data = pickle.dumps(where(kind, cls(marker)), protocol=protocol)
    with pytest.raises(DisallowedPickle, match=r"disallowed pickle global '(posix|os|subprocess)"):
        restricted_loads(data)
    assert not marker.exists()


def global_pickle(module: str, name: str, *args: str) -> bytes:
    """A hand-written protocol-0 pickle calling ``module.name(*args)``."""
    arguments = "".join(f"V{a}\n" for a in args)
    return f"c{module}\n{name}\n({arguments}tR.".encode()


def stack_global_pickle(module: str, name: str, arg: str) -> bytes:
    """The same at protocol 4 (``STACK_GLOBAL``)."""

    def short(text: str) -> bytes:  # SHORT_BINUNICODE
        raw = text.encode()
        return b"\x8c" + bytes([len(raw)]) + raw

    return b"\x80\x04" + short(module) + short(name) + b"\x93" + short(arg) + b"\x85R."


GLOBALS = [
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("builtins", "getattr"),
    ("builtins", "__import__"),
    ("builtins", "open"),
    ("__builtin__", "eval"),
    ("os", "system"),
    ("posix", "system"),
    ("subprocess", "Popen"),
    ("copyreg", "_reconstructor"),
    ("copy_reg", "_reconstructor"),
    ("pickle", "loads"),
    ("datetime", "datetime.fromisoformat"),
    (CANARY, "boom"),
]


@pytest.mark.parametrize("module, name", GLOBALS, ids=[f"{m}.{n}" for m, n in GLOBALS])
def test_disallowed_globals_refused(settings, module, name):
    expected = {("__builtin__", "eval"): "builtins.eval"}.get((module, name), f"{module}.{name}")
    for data in (global_pickle(module, name, "x"), stack_global_pickle(module, name, "x")):
        if (module, name) in (("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor")):
            with pytest.raises(DisallowedPickle, match="_reconstructor"):
                restricted_loads(data)
            continue
        with pytest.raises(DisallowedPickle, match=f"disallowed pickle global '{expected}'"):
            restricted_loads(data)
    assert CANARY not in sys.modules  # refused before any import


def test_reconstructor_only_builds_a_safe_class(settings):
    """``copyreg._reconstructor`` works for uuid.UUID at protocol 0/1, for nothing else."""
    value = uuid.UUID(int=7)
    assert restricted_loads(pickle.dumps(value, protocol=0)) == value
    bad = b"ccopy_reg\n_reconstructor\n(cos\n_wrap_close\nc__builtin__\nobject\nNtR."
    with pytest.raises(DisallowedPickle, match=r"os\._wrap_close"):
        restricted_loads(bad)
    not_object = b"ccopy_reg\n_reconstructor\n(cuuid\nUUID\ncuuid\nUUID\nNtR."
    with pytest.raises(DisallowedPickle, match="_reconstructor"):
        restricted_loads(not_object)


def test_object_marker_is_not_callable(settings):
    with pytest.raises(TypeError):
        restricted_loads(b"c__builtin__\nobject\n)R.")


def test_codecs_encode_latin1_only(settings):
    assert restricted_loads(b"c_codecs\nencode\n(Vab\nVlatin1\ntR.") == b"ab"
    with pytest.raises(DisallowedPickle, match="encode"):
        restricted_loads(b"c_codecs\nencode\n(Vab\nVrot13\ntR.")


def test_configured_safe_class(settings_factory):
    settings_factory(PICKLE_SAFE_CLASSES=["fractions.Fraction"])
    from fractions import Fraction

    assert restricted_loads(pickle.dumps(Fraction(1, 3))) == Fraction(1, 3)
    with pytest.raises(DisallowedPickle, match=r"uuid\.UUID"):
        restricted_loads(pickle.dumps(uuid.UUID(int=1)))


def test_a_function_is_not_a_safe_class(settings_factory):
    from config import ConfigError

    with pytest.raises(ConfigError, match="PICKLE_SAFE_CLASSES"):
        settings_factory(PICKLE_SAFE_CLASSES=["os.system"])


def test_meta_and_results_go_through_it(conn, settings, tmp_path):
    """rq reads ``meta`` and ``result`` with the job's serializer: a bomb there stays inert."""
    marker = tmp_path / "pwned"
    job = Job.create(func="tasks.webhooks.send_webhook", args=[task()], connection=conn)
    job.save()
    bomb = pickle.dumps(Evil(marker))
    conn.hset(job.key, mapping={"meta": bomb, "result": bomb})
    loaded = Job.fetch(job.id, connection=conn, serializer=SafePickleSerializer)
    assert loaded.meta == {"unserialized": bomb}
    assert not marker.exists()


@pytest.fixture
def failed_callback(httpserver):
    httpserver.expect_request("/failed").respond_with_data("ok")
    return httpserver.url_for("/failed")


def write_raw(conn, job_id: str, data: bytes, callback: str) -> None:
    fields = {"status": "queued", "origin": "sms", "created_at": "2026-01-01T00:00:00.000000Z", "data": data}
    conn.hset(contract.job_key(job_id), mapping={**fields, "failed_task_handler": callback})
    conn.zadd(contract.queue_key("sms"), {job_id: 100})


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_worker_fails_the_bomb_and_runs_the_next_job(
    conn, settings, run_each_worker, httpserver, failed_callback, tmp_path, protocol
):
    marker = tmp_path / "pwned"
    data = zlib.compress(pickle.dumps(where("deep", Evil(marker)), protocol=protocol))
    write_raw(conn, "bomb", data, failed_callback)
    good = enqueue("sms", "tests.jobs.record", {"name": "good"}, priority=1, connection=conn)
    run_each_worker(["sms"], serializer=serializer_from_settings(settings))
    assert not marker.exists()
    assert conn.zscore("rq:failed:sms", "bomb") is not None
    reasons = {r.form["job_id"]: r.form["failure_trace"] for r, _ in httpserver.log if r.path == "/failed"}
    assert "could not be decoded" in reasons["bomb"]
    assert Job.fetch(good.id, connection=conn).get_status() == "finished"
