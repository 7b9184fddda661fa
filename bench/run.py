"""``python -m bench.run [--quick] [--runs N] [--only noop,io,pickup,scaling]``: the benchmark.

One private redis-server and one fake provider serve the whole run. Prints Markdown tables and
writes the raw runs and their summary to ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report, scenarios
from bench.fake_provider import FakeProvider
from bench.redis_server import RedisServer
from bench.scenarios import FUSION_FORK, FUSION_SIMPLE, RQ_SIMPLE, RQ_WORKER, Bench, Spec, concurrent, eventloop

SCENARIOS = ("noop", "io", "sms", "pickup", "scaling")
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
LATENCY = 0.05
#: Concurrency of the event-loop class in the I/O scenario; jobs per run (about 3-4 s of work).
ASYNC_IO = {64: 4000, 128: 8000, 256: 12000, 512: 20000, 1024: 30000}
ASYNC_NOOP = (64, 256)
#: The fork worker on ``tasks.dispatch`` (imports every channel module in each work horse).
DISPATCH_FORK = Spec("FusionWorker, tasks.dispatch", "fusion-fork", func="tasks.dispatch")


@dataclass(frozen=True)
class Plan:
    """How much work each scenario does: jobs per run by worker label, samples, rounds."""

    runs: int
    noop_jobs: dict[str, int]
    io_jobs: dict[str, int]
    pickup_samples: int
    idle_window: float
    scaling_noop_jobs: dict[str, int]
    scaling_io_jobs: dict[str, int]
    sms_jobs: dict[str, int]


def plan(quick: bool, runs: int | None) -> Plan:
    scale = 0.2 if quick else 1.0

    def n(count: int) -> int:
        return max(10, int(count * scale))

    return Plan(
        runs=runs or (1 if quick else 3),
        noop_jobs={
            RQ_WORKER.label: n(150),
            RQ_SIMPLE.label: n(500),
            FUSION_FORK.label: n(150),
            FUSION_SIMPLE.label: n(500),
            concurrent(16).label: n(5000),
            concurrent(32).label: n(5000),
            **{eventloop(c).label: n(20000) for c in ASYNC_NOOP},
        },
        io_jobs={
            RQ_WORKER.label: n(50),
            RQ_SIMPLE.label: n(60),
            FUSION_FORK.label: n(50),
            FUSION_SIMPLE.label: n(60),
            concurrent(8).label: n(800),
            concurrent(32).label: n(3000),
            concurrent(64).label: n(5000),
            DISPATCH_FORK.label: 12,
            **{eventloop(c).label: n(jobs) for c, jobs in ASYNC_IO.items()},
        },
        pickup_samples=15 if quick else 40,
        idle_window=1.0 if quick else 2.0,
        scaling_noop_jobs={RQ_SIMPLE.label: n(500), FUSION_SIMPLE.label: n(500)},
        scaling_io_jobs={concurrent(32).label: n(3000)},
        sms_jobs={RQ_SIMPLE.label: n(60), concurrent(64).label: n(3000), eventloop(64).label: n(4000)},
    )


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], capture_output=True, text=True, check=False, cwd=scenarios.ROOT
            ).stdout
        except OSError:
            return ""

    import redis
    import rq

    cpu = ""
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rq": rq.__version__,
        "redis_py": redis.__version__,
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "dirty_files": [line[3:] for line in git("status", "--porcelain").splitlines() if not line.startswith("??")],
    }


def run(options: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen scenarios; return the document written to ``options.out``."""
    chosen = [s.strip() for s in options.only.split(",")] if options.only else list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    p = plan(options.quick, options.runs)
    began = time.time()
    meta = machine()  # the code measured: the commit and the files changed in the work tree at the start
    raw: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    log = print if not options.silent else (lambda _: None)
    words = [w for w in options.match.split(",") if w]

    def pick(specs: list[Spec]) -> list[Spec]:
        """The workers ``--match`` keeps (all without it)."""
        return [spec for spec in specs if not words or any(w in spec.label for w in words)]

    with RedisServer() as server:
        needs_fake = any(s in chosen for s in ("io", "sms", "scaling"))
        fake = FakeProvider(LATENCY).start() if needs_fake else None
        bench = Bench(server, fake, in_process=options.in_process, log=log)
        bench.configure()
        info = bench.conn.info("server")
        try:
            if "noop" in chosen:
                specs = [RQ_WORKER, RQ_SIMPLE, FUSION_FORK, FUSION_SIMPLE, concurrent(16), concurrent(32)]
                specs += [eventloop(c) for c in ASYNC_NOOP]
                func = scenarios.NOOP
                if options.in_process:  # the smoke test: no fork, and count each job's runs
                    specs = [RQ_SIMPLE, FUSION_SIMPLE, concurrent(4)]
                    func = scenarios.COUNTED
                jobs = dict(p.noop_jobs, **{concurrent(4).label: p.noop_jobs[FUSION_SIMPLE.label]})
                if options.jobs:
                    jobs = dict.fromkeys(jobs, options.jobs)
                raw["noop"] = scenarios.noop(bench, pick(specs), jobs, p.runs, func)
                summary["noop"] = report.summarize_throughput(raw["noop"]["runs"])
            if "io" in chosen:
                specs = [
                    RQ_WORKER,
                    RQ_SIMPLE,
                    FUSION_FORK,
                    FUSION_SIMPLE,
                    concurrent(8),
                    concurrent(32),
                    concurrent(64),
                    DISPATCH_FORK,
                    *(eventloop(c) for c in ASYNC_IO),
                ]
                raw["io"] = scenarios.io_bound(bench, pick(specs), p.io_jobs, p.runs, LATENCY)
                summary["io"] = report.summarize_throughput(raw["io"]["runs"])
            if "sms" in chosen:
                specs = pick([RQ_SIMPLE, concurrent(64), eventloop(64)])
                raw["sms"] = scenarios.sms_path(bench, specs, p.sms_jobs, p.runs, LATENCY)
                summary["sms"] = report.summarize_throughput(raw["sms"]["runs"])
            if "pickup" in chosen:
                all_queues = "sms,email,pn,webhook,whatsapp,scheduler,bench"
                specs = [RQ_WORKER, RQ_SIMPLE, FUSION_FORK, FUSION_SIMPLE, concurrent(32), eventloop(256)]
                specs.append(Spec("FusionSimpleWorker, 7 queues", "fusion-simple", queues=all_queues))
                specs = pick(specs)
                raw["pickup"] = scenarios.pickup(bench, specs, p.pickup_samples, p.runs, p.idle_window)
                summary["pickup"] = report.summarize_pickup(raw["pickup"]["runs"])
            if "scaling" in chosen:
                counts = (1, 2, 4)
                raw["scaling_noop"] = scenarios.scaling(
                    bench, [RQ_SIMPLE, FUSION_SIMPLE], counts, p.scaling_noop_jobs, p.runs, scenarios.NOOP, "scaling"
                )
                summary["scaling_noop"] = report.summarize_scaling(raw["scaling_noop"]["runs"])
                raw["scaling_io"] = scenarios.scaling(
                    bench, [concurrent(32)], counts, p.scaling_io_jobs, p.runs, scenarios.WEBHOOK, "scaling-io"
                )
                summary["scaling_io"] = report.summarize_scaling(raw["scaling_io"]["runs"])
        finally:
            if fake is not None:
                fake.stop()
            shutil.rmtree(bench.workdir, ignore_errors=True)
    summary["targets"] = report.targets(summary)
    after = machine()
    if (after["commit"], after["dirty_files"]) != (meta["commit"], meta["dirty_files"]):
        # Others commit to this tree while the benchmark runs: say so, figures may mix versions.
        meta["code_changed_during_run"] = {"commit": after["commit"], "dirty_files": after["dirty_files"]}
    meta.update(
        {
            "redis_server": info.get("redis_version"),
            "command": "python -m bench.run " + " ".join(options.argv),
            "quick": options.quick,
            "runs": p.runs,
            "in_process": options.in_process,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(began)),
            "seconds": round(time.time() - began, 1),
            "provider_latency_s": LATENCY,
            "plan": p.__dict__,
        }
    )
    document = {"meta": meta, "summary": summary, "raw": raw}
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1) + "\n")
    return document


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="A smoke run of about a minute (1 round, few jobs).")
    parser.add_argument("--runs", type=int, default=None, help="Rounds per scenario (default 3; 1 with --quick).")
    parser.add_argument("--only", default="", help=f"Comma list of scenarios: {', '.join(SCENARIOS)}.")
    parser.add_argument("--jobs", type=int, default=None, help="Jobs per no-op run (overrides the plan).")
    parser.add_argument("--in-process", action="store_true", help="No-op scenario only: workers in this process.")
    parser.add_argument(
        "--match", default="", help="Comma list of words: only the workers whose label holds one (noop, io)."
    )
    parser.add_argument("--silent", action="store_true", help="No progress lines.")
    parser.add_argument(
        "--out", default=str(RESULTS), help="Where to write the JSON (default bench/results/latest.json)."
    )
    options = parser.parse_args(argv)
    options.argv = argv
    return options


def main(argv: list[str] | None = None) -> dict[str, Any]:
    options = parse(sys.argv[1:] if argv is None else argv)
    document = run(options)
    meta = document["meta"]
    print(
        f"\n# Fusion Worker benchmark: {meta['cpus']} CPUs ({meta['cpu']}), Python {meta['python']}, "
        f"redis-server {meta['redis_server']}, rq {meta['rq']}, commit {meta['commit']}, "
        f"{meta['runs']} run(s) each, {meta['seconds']} s\n"
    )
    print(report.render(document["summary"]))
    if "code_changed_during_run" in meta:
        print(f"\nWARNING: the code changed during the run (now {meta['code_changed_during_run']['commit']}).")
    print(f"\nwritten: {options.out}")
    return document


if __name__ == "__main__":
    main()
