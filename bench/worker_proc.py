"""One worker process of the benchmark: ``python -m bench.worker_proc --kind fusion-simple ...``.

It builds the worker the way ``run_worker.py worker`` does (settings from the environment, the
CLI's logging and Redis connection for Fusion's classes; a plain client for stock rq). Like the
CLI and ``rq worker`` it imports no job module beforehand (``--preload`` names some), so a forked
work horse imports the job's module itself, every time. It runs ``work()``, optionally waiting
at a start barrier once started up (``--barrier``: RPUSH ``<barrier>:ready``, then BLPOP
``<barrier>:go``), and writes a JSON line to ``--out``: wall-clock start and end of ``work()``, its peak RSS and that of
its children (the forked work horses), and how many requests it wrote to Redis (round trips,
counted across forks in shared memory).
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import resource
import sys
import time
from typing import Any

import redis

#: Worker kinds: stock rq on list queues, Fusion on priority queues.
KINDS = ("rq-worker", "rq-simple", "fusion-fork", "fusion-simple", "fusion-concurrent", "fusion-async")


def count_round_trips() -> Any:
    """Count each request written to Redis (a pipeline is one), in memory shared with forks: by
    redis-py's blocking clients, by its asyncio ones, and by the event loop's own client
    (:mod:`rq_ext.resp`: the event-loop class's claims, finishes, ledger records and scripts)."""
    from redis.asyncio.connection import AbstractConnection as AsyncConnection
    from redis.connection import AbstractConnection

    from rq_ext.resp import Link

    counter = multiprocessing.Value("q", 0)
    original = AbstractConnection.send_packed_command
    original_async = AsyncConnection.send_packed_command

    def count() -> None:
        with counter.get_lock():
            counter.value += 1

    def send_packed_command(self: Any, command: Any, check_health: bool = True) -> None:
        count()
        original(self, command, check_health)

    async def send_packed_command_async(self: Any, command: Any, check_health: bool = True) -> None:
        count()
        await original_async(self, command, check_health)

    original_link = Link.send

    async def send_on_link(self: Any, commands: Any, timeout: Any) -> Any:
        count()
        return await original_link(self, commands, timeout)

    AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
    AsyncConnection.send_packed_command = send_packed_command_async  # type: ignore[method-assign]
    Link.send = send_on_link  # type: ignore[method-assign]
    return counter


def peak_rss_kb() -> int:
    """This process's peak RSS (``VmHWM``). Not ``ru_maxrss``: Linux carries that over ``exec``
    from the parent, so every worker would report at least the benchmark's own peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for children (the work horses)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    horses = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + horses.ru_utime + horses.ru_stime


def build_worker(kind: str, queue: str, concurrency: int, level: str) -> Any:
    """The worker of ``kind`` on ``queue`` (a comma list), configured like the CLI configures it."""
    queues = queue.split(",")
    if kind.startswith("rq-"):
        import os

        from rq import SimpleWorker, Worker

        connection = redis.Redis.from_url(os.environ["REDIS_URL"])
        cls = Worker if kind == "rq-worker" else SimpleWorker
        return cls(queues, connection=connection)
    from config import configure, load_settings
    from rq_ext.cli import setup_observability
    from rq_ext.concurrent import FusionConcurrentWorker
    from rq_ext.connection import redis_from_settings
    from rq_ext.worker import FusionSimpleWorker, FusionWorker

    settings = configure(load_settings("instance"))
    setup_observability(settings, level, "json")
    connection = redis_from_settings(settings)
    common: dict[str, Any] = {
        "connection": connection,
        "default_result_ttl": settings.RESULT_TTL,
        "worker_ttl": settings.WORKER_TTL,
    }
    if kind == "fusion-concurrent":
        return FusionConcurrentWorker(queues, concurrency=concurrency, **common)
    if kind == "fusion-async":
        from rq_ext.eventloop import FusionAsyncWorker

        return FusionAsyncWorker(queues, concurrency=concurrency, **common)
    return (FusionWorker if kind == "fusion-fork" else FusionSimpleWorker)(queues, **common)


def send_latency() -> dict[str, Any]:
    """p50/p99 of the requests' round trips seen by ``bench.jobs.timed_webhook`` in this process."""
    jobs = sys.modules.get("bench.jobs")
    times = sorted(getattr(jobs, "SEND_TIMES", []))
    if not times:
        return {}
    at = lambda q: round(1000 * times[min(len(times) - 1, round(q * (len(times) - 1)))], 3)  # noqa: E731
    return {"send_ms_p50": at(0.5), "send_ms_p99": at(0.99), "sends_timed": len(times)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--barrier", default="")
    parser.add_argument("--preload", default="", help="Comma list of modules to import before the work loop.")
    parser.add_argument("--out", required=True)
    parser.add_argument("--level", default="WARNING")
    options = parser.parse_args(argv)

    counter = count_round_trips()
    for module in filter(None, options.preload.split(",")):
        importlib.import_module(module)
    worker = build_worker(options.kind, options.queue, options.concurrency, options.level)
    marks = {"cpu": cpu_seconds(), "round_trips": float(counter.value)}
    bootstrap = worker.bootstrap

    def bootstrapped(*args: Any, **kwargs: Any) -> None:
        """After start-up (registration, preloading modules), wait at the barrier, then count
        CPU and round trips from there on: a process still starting steals no CPU from one
        already working."""
        bootstrap(*args, **kwargs)
        if options.barrier:
            worker.connection.rpush(options.barrier + ":ready", 1)
            worker.connection.blpop([options.barrier + ":go"], timeout=120)
        marks.update(cpu=cpu_seconds(), round_trips=float(counter.value))

    worker.bootstrap = bootstrapped
    start = time.time()
    worker.work(burst=options.burst, logging_level=options.level)
    end = time.time()
    report = {
        "kind": options.kind,
        "start": start,
        "end": end,
        "rss_kb": peak_rss_kb(),
        "children_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "round_trips": counter.value - marks["round_trips"],
        "cpu_s": cpu_seconds() - marks["cpu"],
    }
    report.update(send_latency())
    with open(options.out, "w") as out:
        out.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
