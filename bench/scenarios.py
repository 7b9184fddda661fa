"""The measurements. Every scenario runs its worker configurations in rounds (round 1 of each,
then round 2 of each, ...), so that a ratio to stock rq is taken between runs made side by side.

Each run: FLUSHALL, enqueue, start the worker(s) as subprocesses held at a barrier, CONFIG
RESETSTAT, release them, wait for the burst to end, then read ``INFO commandstats`` and check
that every job finished.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import redis

from bench.fake_provider import FakeProvider
from bench.jobs import RUNS_KEY, STARTED_KEY
from bench.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "bench"
NOOP = "bench.jobs.noop"
COUNTED = "bench.jobs.counted"
STARTED = "bench.jobs.started"
WEBHOOK = "tasks.webhooks.send_webhook"
#: The webhook, its request timed in the worker (``bench.jobs.SEND_TIMES``): in-process classes.
TIMED_WEBHOOK = "bench.jobs.timed_webhook"
#: Commands of the benchmark itself, left out of the per-job counts.
OWN_COMMANDS = {"info", "config", "flushall"}


@dataclass(frozen=True)
class Spec:
    """A worker configuration: a label for the table, a worker kind (see ``bench.worker_proc``)."""

    label: str
    kind: str
    concurrency: int = 1
    #: Comma list of the queues the worker serves; jobs go to the last one.
    queues: str = QUEUE
    #: The job function, where the scenario lets it vary (I/O: ``tasks.webhooks.send_webhook``).
    func: str = ""

    @property
    def queue(self) -> str:
        return self.queues.split(",")[-1]

    @property
    def stock(self) -> bool:
        return self.kind.startswith("rq-")


RQ_WORKER = Spec("rq Worker", "rq-worker")
RQ_SIMPLE = Spec("rq SimpleWorker", "rq-simple")
FUSION_FORK = Spec("FusionWorker", "fusion-fork")
FUSION_SIMPLE = Spec("FusionSimpleWorker", "fusion-simple")


def concurrent(n: int) -> Spec:
    return Spec(f"FusionConcurrentWorker c={n}", "fusion-concurrent", n)


def eventloop(n: int) -> Spec:
    """The event-loop class (``--worker-class async``) at concurrency ``n``."""
    return Spec(f"FusionAsyncWorker c={n}", "fusion-async", n)


@dataclass
class Bench:
    """What every scenario needs: the private Redis, the fake provider, a scratch directory."""

    server: RedisServer
    fake: FakeProvider | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fw-bench-")))
    in_process: bool = False
    log: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.conn = self.server.client()

    def env(self) -> dict[str, str]:
        """The worker's environment: the settings the brief names, on loopback only."""
        env = dict(os.environ)
        env.update(
            {
                "CRELIO_DEPLOYMENT_MODE": "TEST",
                "REDIS_URL": self.server.url,
                "JOB_FUNCTION_ALLOWLIST": "tasks.,bench.",
                "DRY_RUN": "0",
                "WEBHOOK_WHITELIST": r"^http://127\.0\.0\.1",
                "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
                "LOG_LEVEL": "WARNING",
                "OUTBOX_POLL": "1",  # the production default (the TEST instance polls every 0.2 s)
                "SENTRY_DSN": "",
                "ELASTICSEARCH_URL": "",
                "FUSION_SERVER": "",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env

    def configure(self) -> None:
        """The same settings in this process (the producer, and in-process workers)."""
        from config import configure, load_settings

        configure(load_settings("instance", env=self.env()))


# -- Redis statistics --------------------------------------------------------------------------


def reset_stats(conn: redis.Redis) -> None:
    conn.config_resetstat()


def command_counts(conn: redis.Redis) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT, without the benchmark's own."""
    stats = conn.info("commandstats")
    counts: dict[str, int] = {}
    for key, value in stats.items():
        name = key.removeprefix("cmdstat_")
        if name.split("|")[0] not in OWN_COMMANDS:
            counts[name] = int(value["calls"])
    return counts


def redis_cpu_seconds(conn: redis.Redis) -> float:
    cpu = conn.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def per_job(counts: dict[str, int], jobs: int) -> dict[str, float]:
    return {name: round(calls / jobs, 2) for name, calls in sorted(counts.items(), key=lambda kv: -kv[1])}


# -- producers ----------------------------------------------------------------------------------


def enqueue(bench: Bench, spec: Spec, func: str, tasks: Sequence[Any]) -> list[str]:
    """Enqueue one job per task: ``rq.Queue.enqueue`` (a list) for stock rq, else ``rq_ext.enqueue``."""
    queue = spec.queue
    if spec.stock:
        from rq import Queue

        q = Queue(queue, connection=bench.conn)
        return [q.enqueue(func, task).id for task in tasks]
    from rq_ext import enqueue as fusion_enqueue

    return [fusion_enqueue(queue, func, task, connection=bench.conn).id for task in tasks]


def outcomes(conn: redis.Redis, job_ids: Sequence[str]) -> tuple[dict[str, int], float | None, float | None]:
    """How many jobs ended in each status; when the first job started and the last one ended."""
    with conn.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(f"rq:job:{job_id}", "status", "started_at", "ended_at")
        found = pipe.execute()
    starts = [parse_time(started) for _, started, _ in found if started]
    ends = [parse_time(ended) for _, _, ended in found if ended]
    counts = dict(Counter(text(status) or "missing" for status, _, _ in found))
    return counts, min(starts) if starts else None, max(ends) if ends else None


def text(raw: bytes | str | None) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw or ""


def parse_time(raw: bytes | str) -> float:
    """rq's UTC timestamp format (``2026-01-31T12:00:00.123456Z``) as epoch seconds."""
    from datetime import datetime

    return datetime.strptime(text(raw), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def run_counts(conn: redis.Redis, job_ids: Sequence[str]) -> dict[str, int]:
    """How many jobs ran 0, 1, 2... times (the ``counted`` job)."""
    runs = {text(k): int(v) for k, v in conn.hgetall(RUNS_KEY).items()}
    return dict(Counter(str(runs.get(job_id, 0)) for job_id in job_ids))


# -- worker processes ---------------------------------------------------------------------------


@dataclass
class Proc:
    process: subprocess.Popen[bytes]
    out: Path
    log: Path


def start_worker(bench: Bench, spec: Spec, *, burst: bool, barrier: str = "", preload: str = "") -> Proc:
    fd, out_name = tempfile.mkstemp(prefix="worker-", suffix=".json", dir=bench.workdir)
    os.close(fd)
    out = Path(out_name)
    log = out.with_suffix(".log")
    cmd = [sys.executable, "-m", "bench.worker_proc", "--kind", spec.kind, "--queue", spec.queues, "--out", str(out)]
    cmd += ["--concurrency", str(spec.concurrency)]
    if burst:
        cmd.append("--burst")
    if barrier:
        cmd += ["--barrier", barrier]
    if preload:
        cmd += ["--preload", preload]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(cmd, cwd=ROOT, env=bench.env(), stdout=log_file, stderr=subprocess.STDOUT)
    return Proc(process, out, log)


def finish(proc: Proc, timeout: float = 600) -> dict[str, Any]:
    """Wait for the worker to exit; its JSON report plus the warnings and errors it logged."""
    import json

    try:
        proc.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.process.kill()
        proc.process.wait()
        raise RuntimeError(f"worker did not finish in {timeout:.0f}s; log: {proc.log}") from None
    text = proc.out.read_text().strip()
    if proc.process.returncode != 0 or not text:
        raise RuntimeError(f"worker exited {proc.process.returncode}; log: {proc.log}")
    report: dict[str, Any] = json.loads(text)
    lines = [line for line in proc.log.read_text(errors="replace").splitlines() if line.strip()]
    report["log_lines"] = len(lines)
    report["log_samples"] = sorted({line[:200] for line in lines})[:3]
    return report


def wait_ready(conn: redis.Redis, barrier: str, count: int, procs: Sequence[Proc], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while int(conn.llen(barrier + ":ready")) < count:
        for proc in procs:
            if proc.process.poll() is not None:
                raise RuntimeError(f"worker exited early ({proc.process.returncode}); log: {proc.log}")
        if time.monotonic() > deadline:
            raise RuntimeError("workers not ready in time")
        time.sleep(0.02)


def drain(bench: Bench, spec: Spec, job_ids: Sequence[str], processes: int = 1, preload: str = "") -> dict[str, Any]:
    """Run ``processes`` burst workers of ``spec`` together until the queue is empty.

    Returns jobs/s over the union of their ``work()`` spans, Redis commands per job, round trips
    per job and peak RSS (worker and work horse), from subprocesses (or in-process: no RSS)."""
    jobs = len(job_ids)
    redis_cpu = 0.0
    if bench.in_process:
        reset_stats(bench.conn)
        start, end = run_in_process(bench, spec)
        reports: list[dict[str, Any]] = [{"start": start, "end": end}]
    else:
        barrier = f"bench:barrier:{time.monotonic_ns()}"
        procs = [start_worker(bench, spec, burst=True, barrier=barrier, preload=preload) for _ in range(processes)]
        wait_ready(bench.conn, barrier, processes, procs)
        reset_stats(bench.conn)
        redis_cpu = redis_cpu_seconds(bench.conn)
        bench.conn.rpush(barrier + ":go", *([1] * processes))
        reports = [finish(proc) for proc in procs]
    counts = command_counts(bench.conn)
    if not bench.in_process:
        redis_cpu = redis_cpu_seconds(bench.conn) - redis_cpu
    if not bench.in_process:  # the barrier's RPUSH and the BLPOPs it released
        counts["rpush"] = counts.get("rpush", 0) - 1
        counts["blpop"] = counts.get("blpop", 0) - processes
        counts = {k: v for k, v in counts.items() if v > 0}
    status_counts, first_start, last_end = outcomes(bench.conn, job_ids)
    work_start = min(r["start"] for r in reports)
    work_end = max(r["end"] for r in reports)
    # Throughput runs from the start of the first job to the end of the last: the worker's
    # start-up (registration, preloading modules) and a burst worker's teardown (joining its
    # pub/sub and housekeeping threads, up to a second) are not job work.
    elapsed = (last_end or work_end) - (first_start or work_start)
    result: dict[str, Any] = {
        "jobs": jobs,
        "seconds": round(elapsed, 4),
        "work_seconds": round(work_end - work_start, 4),
        "jobs_per_s": round(jobs / elapsed, 2),
        "commands_per_job": round(sum(counts.values()) / jobs, 2),
        "commands": per_job(counts, jobs),
        "statuses": status_counts,
    }
    if not bench.in_process:
        result["round_trips_per_job"] = round(sum(r["round_trips"] for r in reports) / jobs, 2)
        result["rss_mb"] = round(max(r["rss_kb"] for r in reports) / 1024, 1)
        result["worker_cpu_ms_per_job"] = round(1000 * sum(r["cpu_s"] for r in reports) / jobs, 3)
        result["redis_cpu_ms_per_job"] = round(1000 * redis_cpu / jobs, 3)
        horse = max(r["children_rss_kb"] for r in reports)
        result["horse_rss_mb"] = round(horse / 1024, 1) if horse else None
        result["worker_log_lines"] = sum(r["log_lines"] for r in reports)
        result["worker_log_samples"] = reports[0]["log_samples"]
        if len(reports) == 1 and "send_ms_p50" in reports[0]:
            result["send_ms_p50"], result["send_ms_p99"] = reports[0]["send_ms_p50"], reports[0]["send_ms_p99"]
    return result


def run_in_process(bench: Bench, spec: Spec) -> tuple[float, float]:
    """A burst worker in this process (the smoke test); non-forking kinds only."""
    bench.configure()
    if spec.kind == "rq-simple":
        from rq import SimpleWorker

        worker: Any = SimpleWorker([QUEUE], connection=bench.conn)
    elif spec.kind == "fusion-simple":
        from rq_ext.worker import FusionSimpleWorker

        worker = FusionSimpleWorker([QUEUE], connection=bench.conn)
    elif spec.kind == "fusion-concurrent":
        from rq_ext.concurrent import FusionConcurrentWorker

        worker = FusionConcurrentWorker([QUEUE], connection=bench.conn, concurrency=spec.concurrency)
    else:
        raise ValueError(f"{spec.kind} cannot run in-process")
    start = time.time()
    worker.work(burst=True, logging_level="WARNING")
    return start, time.time()


# -- scenarios ----------------------------------------------------------------------------------


def rounds(
    bench: Bench, specs: Sequence[Spec], runs: int, one: Callable[[Spec], dict[str, Any]], name: str
) -> dict[str, list[dict[str, Any]]]:
    """``runs`` rounds of every spec, interleaved; results by label, in round order."""
    results: dict[str, list[dict[str, Any]]] = {spec.label: [] for spec in specs}
    for index in range(runs):
        for spec in specs:
            began = time.monotonic()
            result = one(spec)
            results[spec.label].append(result)
            rate = f"{result['jobs_per_s']} jobs/s" if "jobs_per_s" in result else f"pickup p50 {result['p50_ms']} ms"
            bench.log(f"  {name} round {index + 1}/{runs} {spec.label:<30} {rate} ({time.monotonic() - began:.1f}s)")
    return results


def noop(bench: Bench, specs: Sequence[Spec], jobs: dict[str, int], runs: int, func: str = NOOP) -> dict[str, Any]:
    """1. No-op jobs: jobs/s per process, commands and round trips per job, peak RSS."""

    def one(spec: Spec) -> dict[str, Any]:
        bench.conn.flushall()
        reset_stats(bench.conn)
        ids = enqueue(bench, spec, func, [{"n": i} for i in range(jobs[spec.label])])
        producer = sum(command_counts(bench.conn).values()) / len(ids)
        result = drain(bench, spec, ids, preload="bench.jobs")
        result["producer_commands_per_job"] = round(producer, 2)
        if func == COUNTED:
            result["runs_per_job"] = run_counts(bench.conn, ids)
        return result

    return {"runs": rounds(bench, specs, runs, one, "noop")}


def io_bound(bench: Bench, specs: Sequence[Spec], jobs: dict[str, int], runs: int, latency: float) -> dict[str, Any]:
    """2. I/O-bound: webhooks through ``tasks.webhooks.send_webhook`` to the fake provider."""
    assert bench.fake is not None
    fake = bench.fake

    def one(spec: Spec) -> dict[str, Any]:
        bench.conn.flushall()
        tasks = [
            {"payload": {"task": 4, "url": fake.url, "json": {"n": i, "text": "hello"}}}
            for i in range(jobs[spec.label])
        ]
        timed = spec.kind in ("fusion-concurrent", "fusion-async")
        ids = enqueue(bench, spec, spec.func or (TIMED_WEBHOOK if timed else WEBHOOK), tasks)
        fake.reset()
        # Stock rq gets the job's module imported up front, as rq's docs advise; Fusion runs as
        # its CLI runs (it preloads the channel modules itself, or its horses import them).
        result = drain(bench, spec, ids, preload="tasks.webhooks" if spec.stock else "")
        served = fake.stats()
        result["provider_requests"] = served["requests"]
        result["provider_connections"] = served["connections"]
        ideal = spec.concurrency / latency
        result["ideal_jobs_per_s"] = round(ideal, 1)
        result["ratio_to_ideal"] = round(result["jobs_per_s"] / ideal, 3)
        for q in ("p50", "p99"):
            seen = result.pop(f"send_ms_{q}", None)
            if seen is not None:
                result[f"added_latency_ms_{q}"] = round(seen - 1000 * latency, 3)
        return result

    return {"latency_s": latency, "runs": rounds(bench, specs, runs, one, "io")}


#: The SMS path's job function, and its gateway: Sinch (JSON), its base URL the fake provider.
SMS = "tasks.sms.send_sms"


def sms_task(fake: FakeProvider, i: int) -> dict[str, Any]:
    """One SMS through a JSON gateway: number parsing, encoding, breaker, ledger, the request."""
    config = {"service_plan_id": "bench", "api_token": "bench-token", "sender": "LABXYZ", "base_url": fake.url}
    number = f"+1415555{i % 10000:04d}"
    text = f"Your lab report {i} is ready"
    return {"payload": {"task": 1, "gateway": "sinch", "config": config, "to": number, "message": text}}


def sms_path(bench: Bench, specs: Sequence[Spec], jobs: dict[str, int], runs: int, latency: float) -> dict[str, Any]:
    """6. The SMS path: ``tasks.sms.send_sms`` through a JSON gateway to the fake provider."""
    assert bench.fake is not None
    fake = bench.fake

    def one(spec: Spec) -> dict[str, Any]:
        bench.conn.flushall()
        ids = enqueue(bench, spec, SMS, [sms_task(fake, i) for i in range(jobs[spec.label])])
        fake.reset()
        result = drain(bench, spec, ids, preload="tasks.sms" if spec.stock else "")
        result["provider_requests"] = fake.stats()["requests"]
        ideal = spec.concurrency / latency
        result["ideal_jobs_per_s"] = round(ideal, 1)
        result["ratio_to_ideal"] = round(result["jobs_per_s"] / ideal, 3)
        return result

    return {"latency_s": latency, "runs": rounds(bench, specs, runs, one, "sms")}


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def pickup(bench: Bench, specs: Sequence[Spec], samples: int, runs: int, idle_window: float) -> dict[str, Any]:
    """3. Pickup latency of an idle worker (enqueue to job start), and the idle command rate.

    The worker starts (not in burst mode), settles for a second; the Redis commands of the next
    ``idle_window`` seconds give the idle rate. Then one job at a time: wait until the worker has
    finished the previous one, wait a random 10-60 ms (a random phase of any polling cycle),
    enqueue. The latency runs from the moment the producer's enqueue call returned (the job is
    in Redis) to the job's first line; ``from_call`` also counts the enqueue call itself."""
    rng = random.Random(6)

    def one(spec: Spec) -> dict[str, Any]:
        bench.conn.flushall()
        barrier = f"bench:barrier:{time.monotonic_ns()}"
        proc = start_worker(bench, spec, burst=False, barrier=barrier, preload="bench.jobs")
        try:
            wait_ready(bench.conn, barrier, 1, [proc])
            bench.conn.rpush(barrier + ":go", 1)
            time.sleep(1.0)
            reset_stats(bench.conn)
            time.sleep(idle_window)
            idle = command_counts(bench.conn)
            idle_rate = sum(idle.values()) / idle_window
            latencies, from_call, calls = [], [], []
            for _ in range(samples):
                time.sleep(rng.uniform(0.01, 0.06))
                called = time.time()
                job_id = enqueue(bench, spec, STARTED, [{}])[0]
                returned = time.time()
                deadline = time.monotonic() + 30
                while bench.conn.hget(f"rq:job:{job_id}", "status") not in (b"finished", b"failed"):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{spec.label}: job {job_id} did not finish; log: {proc.log}")
                    time.sleep(0.005)
                started_at = bench.conn.hget(STARTED_KEY, job_id)
                if started_at is None:
                    raise RuntimeError(f"{spec.label}: job {job_id} did not run; log: {proc.log}")
                latencies.append((float(started_at) - returned) * 1000)
                from_call.append((float(started_at) - called) * 1000)
                calls.append((returned - called) * 1000)
        finally:
            proc.process.send_signal(signal.SIGTERM)
            try:
                proc.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait()
        return {
            "samples": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies), 2),
            "from_call_p50_ms": round(percentile(from_call, 50), 2),
            "from_call_p99_ms": round(percentile(from_call, 99), 2),
            "enqueue_call_p50_ms": round(percentile(calls, 50), 2),
            "idle_commands_per_s": round(idle_rate, 1),
            "idle_commands": {k: round(v / idle_window, 1) for k, v in sorted(idle.items(), key=lambda kv: -kv[1])},
            "latencies_ms": [round(x, 2) for x in latencies],
        }

    return {"runs": rounds(bench, specs, runs, one, "pickup")}


def scaling(
    bench: Bench,
    specs: Sequence[Spec],
    processes: Sequence[int],
    jobs: dict[str, int],
    runs: int,
    func: str,
    name: str,
) -> dict[str, Any]:
    """5. 1, 2, 4 worker processes on the same queue (jobs/s of all of them together)."""
    fake = bench.fake

    def task(i: int) -> dict[str, Any]:
        if func == WEBHOOK and fake is not None:
            return {"payload": {"task": 4, "url": fake.url, "json": {"n": i}}}
        return {"n": i}

    scaled = [Spec(f"{spec.label} x{p}", spec.kind, spec.concurrency) for spec in specs for p in processes]
    counts = {s.label: int(s.label.rsplit(" x", 1)[1]) for s in scaled}

    def one(spec: Spec) -> dict[str, Any]:
        bench.conn.flushall()
        base = spec.label.rsplit(" x", 1)[0]
        ids = enqueue(bench, spec, func, [task(i) for i in range(jobs[base])])
        preload = "bench.jobs" if func != WEBHOOK else "tasks.webhooks" if spec.stock else ""
        result = drain(bench, spec, ids, processes=counts[spec.label], preload=preload)
        result["processes"] = counts[spec.label]
        return result

    return {"func": func, "runs": rounds(bench, scaled, runs, one, name)}
