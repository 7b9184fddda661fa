"""Profile one worker draining a queue, with py-spy (``pip install py-spy``; not a requirement).

``python -m bench.profile --kind fusion-concurrent --concurrency 64 --scenario io --jobs 2000``

Starts its own redis-server (and fake provider), enqueues the jobs, runs ``bench.worker_proc``
under ``py-spy record`` (all threads, idle frames left out unless ``--idle``; with ``--gil``
only the thread holding the GIL, i.e. where the process's CPU goes), and prints the
functions with the most samples: inclusive (on the stack) and self (at the top).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.fake_provider import FakeProvider
from bench.redis_server import RedisServer
from bench.scenarios import NOOP, ROOT, SMS, WEBHOOK, Bench, Spec, enqueue, sms_task


def top(collapsed: Path, count: int, match: str) -> str:
    """The ``count`` frames with most samples, inclusive and self, from py-spy's raw output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack:
            continue
        n = int(samples)
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")" if " (" in f else f
                  for f in stack.split(";")]  # fmt: skip
        if match and not any(match in f for f in frames):
            continue
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    lines = [f"{total} samples"]
    lines += ["inclusive:"] + [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(count)]
    lines += ["self:"] + [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(count)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--kind", default="fusion-concurrent")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--scenario", choices=("noop", "io", "sms"), default="io")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=250, help="Samples per second.")
    parser.add_argument("--idle", action="store_true", help="Include threads waiting (sleep, I/O).")
    parser.add_argument("--gil", action="store_true", help="Only the thread holding the GIL (where CPU goes).")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="Only stacks with a frame containing this text.")
    parser.add_argument("--keep", default="", help="Also copy the collapsed stacks here.")
    options = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    workdir = Path(tempfile.mkdtemp(prefix="fw-profile-"))
    with RedisServer() as server, FakeProvider() as fake:
        bench = Bench(server, fake, workdir=workdir)
        bench.configure()
        spec = Spec("profiled", options.kind, options.concurrency)
        if options.scenario == "io":
            tasks = [{"payload": {"task": 4, "url": fake.url, "json": {"n": i}}} for i in range(options.jobs)]
            enqueue(bench, spec, WEBHOOK, tasks)
        elif options.scenario == "sms":
            enqueue(bench, spec, SMS, [sms_task(fake, i) for i in range(options.jobs)])
        else:
            enqueue(bench, spec, NOOP, [{"n": i} for i in range(options.jobs)])
        collapsed = workdir / "stacks.txt"
        cmd = [py_spy, "record", "--format", "raw", "-o", str(collapsed), "-r", str(options.rate), "--threads"]
        cmd += ["--subprocesses"] + (["--idle"] if options.idle else []) + (["--gil"] if options.gil else [])
        cmd += ["--", sys.executable, "-m", "bench.worker_proc", "--kind", options.kind, "--queue", "bench"]
        cmd += ["--burst", "--concurrency", str(options.concurrency), "--out", str(workdir / "out.json")]
        began = time.monotonic()
        subprocess.run(cmd, cwd=ROOT, env=bench.env(), check=True, stdout=subprocess.DEVNULL)
        print(f"{options.jobs} jobs in {time.monotonic() - began:.1f}s (with profiler, including start-up)")
        print((workdir / "out.json").read_text().strip())
    print(top(collapsed, options.top, options.match))
    if options.keep:
        shutil.copy(collapsed, options.keep)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
