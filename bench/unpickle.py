"""What the restricted unpickler costs per job: ``python -m bench.unpickle``.

Loads the ``data`` field of realistic jobs (zlib-decompressed, as rq does before ``loads``) with
plain ``pickle.loads`` and with :func:`wrappers.safe_pickle.restricted_loads`, and prints the
median time per load of several rounds. No Redis, no network.
"""

from __future__ import annotations

import argparse
import datetime
import pickle
import statistics
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

from config import configure, load_settings
from wrappers.safe_pickle import restricted_loads


def sms_task() -> dict[str, Any]:
    """An SMS job as the platform writes it: payload, gateway config, fallback, callbacks."""
    return {
        "payload": {
            "task": 1,
            "gateway": "msg91_flow",
            "config": {"auth_key": "k" * 24, "sender": "LABXYZ", "dlt_entity_id": "1201159100000000001"},
            "to": ["+919876543210", "+919812345678"],
            "message": "Dear Ravi, your report HbA1c is ready. View it at https://lab.example/r/abc123 - LABXYZ",
            "template_id": "1207161234567890123",
            "fallback": [{"gateway": "textlocal", "config": {"api_key": "t" * 32}}],
        },
        "labId": 1234,
        "reportId": 987654,
        "success_task_handler": "https://server.example/successTask/",
    }


def job_data(task: dict[str, Any], protocol: int) -> bytes:
    """The bytes rq's ``loads`` sees: the job tuple, pickled (rq compresses; we decompress)."""
    return zlib.decompress(zlib.compress(pickle.dumps(("tasks.dispatch", None, [task], {}), protocol=protocol)))


def per_call(loads: Callable[[bytes], Any], data: bytes, count: int, rounds: int) -> float:
    """Median microseconds per call over ``rounds`` rounds of ``count`` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            loads(data)
        times.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(times)


def cases() -> list[tuple[str, bytes]]:
    with_dates = {**sms_task(), "created": datetime.datetime.now(datetime.UTC), "uuid": uuid.uuid4()}
    return [
        ("sms job, protocol 5 (rq's)", job_data(sms_task(), 5)),
        ("sms job, protocol 2", job_data(sms_task(), 2)),
        ("sms job, protocol 0", job_data(sms_task(), 0)),
        ("sms job + datetime + UUID, protocol 5", job_data(with_dates, 5)),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="loads per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    configure(load_settings(None, env={}))
    print(f"{'payload':40} {'bytes':>6} {'pickle.loads':>13} {'restricted':>11} {'extra':>8}")
    for name, data in cases():
        assert restricted_loads(data) == pickle.loads(data)
        plain = per_call(pickle.loads, data, args.count, args.rounds)
        safe = per_call(restricted_loads, data, args.count, args.rounds)
        print(f"{name:40} {len(data):6d} {plain:10.2f} µs {safe:8.2f} µs {safe - plain:+6.2f} µs")


if __name__ == "__main__":
    main()
