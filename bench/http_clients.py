"""``python -m bench.http_clients [--rounds 3] [--requests N] [--concurrency 64,512] [--json out.json]``:
Python HTTP clients measured against the fake provider (issue 16: pick the event-loop class's client).

One fake provider (``bench/fake_provider.py``, 200 after 50 ms, its own process) serves the whole
run. Each client runs in a fresh subprocess per (round, concurrency): it opens its pool (2 x c
warm-up requests at concurrency c), says ``ready``, waits for ``go`` on stdin, then sends N POSTs
(a ~200-byte JSON body, three headers, keep-alive, one pool of c connections) with c in flight,
reads every response whole, and prints one JSON line: wall time, its own user+sys CPU
(``getrusage(RUSAGE_SELF)``, every thread, the timed run only) and every round trip. The parent
samples the provider's CPU (``/proc/<pid>/stat``) around that timed run and its counts of requests
and connections (to check keep-alive). Figures are medians of the rounds; ``x best`` is the median
of the per-round ratios to the fastest client of that round; ideal = c / delay requests/s.

``--clients aiohttp-uvloop,raw-uvloop`` picks clients; ``--list`` names them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.fake_provider import FakeProvider

ROOT = Path(__file__).resolve().parent.parent
DELAY = 0.05
CLIENTS = (
    "aiohttp-uvloop", "aiohttp-asyncio", "httpx-uvloop", "urllib3-threads", "raw-uvloop", "pycurl-multi",
    "worker-native", "worker-aiohttp",
)  # fmt: skip
DEFAULT_REQUESTS = {64: 3000, 512: 10000}
PAYLOAD = {
    "event": "notification.delivered",
    "notification_id": "9f1c2b7e-4d3a-4e8f-9b6a-1c2d3e4f5a6b",
    "channel": "webhook",
    "recipient": "+919800000000",
    "status": "delivered",
    "attempt": 1,
    "timestamp": "2026-12-02T04:00:00+00:00",
}
BODY = json.dumps(PAYLOAD, separators=(",", ":")).encode()
HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "fusion-worker-bench/1",
    "X-Fusion-Signature": "sha256=" + "ab" * 32,
}


# --- the clients: each returns (round trips of the timed run, wall seconds, CPU seconds) ---------


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_for_go() -> None:
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")


Measured = tuple[list[float], float, float]
#: Seconds after which no new request starts: warm-up, then the timed run (``--budget``). A client
#: that cannot send N requests in time is reported on the requests it sent ("capped").
BUDGET = {"warm-up": 10.0, "timed": 20.0}


def deadline(phase: str) -> float:
    return time.perf_counter() + BUDGET[phase]


async def drive(one: Callable[[], Awaitable[None]], n: int, c: int, timed: bool) -> Measured:
    """``c`` coroutines, each sending requests one after another until ``n`` have gone."""
    remaining = n
    samples: list[float] = []
    if timed:
        wait_for_go()
    end = deadline("timed" if timed else "warm-up")

    async def loop() -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < end:
            remaining -= 1
            start = time.perf_counter()
            await one()
            samples.append(time.perf_counter() - start)

    cpu, wall = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(c)))
    return samples, time.perf_counter() - wall, cpu_seconds() - cpu


async def with_warmup(one: Callable[[], Awaitable[None]], n: int, c: int) -> Measured:
    await drive(one, 2 * c, c, timed=False)
    return await drive(one, n, c, timed=True)


async def aiohttp_client(url: str, n: int, c: int) -> Measured:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=c, limit_per_host=c)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.post(url, data=BODY, headers=HEADERS) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")

        return await with_warmup(one, n, c)


async def httpx_client(url: str, n: int, c: int) -> Measured:
    import httpx

    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(http1=True, http2=False, limits=limits, timeout=30) as client:

        async def one() -> None:
            response = await client.post(url, content=BODY, headers=HEADERS)
            if response.status_code != 200:
                raise RuntimeError(f"status {response.status_code}")

        return await with_warmup(one, n, c)


async def raw_client(url: str, n: int, c: int) -> Measured:
    """A minimal HTTP/1.1 client on asyncio streams, keep-alive, at most ``c`` connections (bench only)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(BODY)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    request = head.encode() + b"\r\n" + BODY
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def one() -> None:
        reader, writer = idle.pop() if idle else await asyncio.open_connection(host, port)
        writer.write(request)
        header = await reader.readuntil(b"\r\n\r\n")
        if not header.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(header[:40])
        length = -1
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length < 0:
            raise RuntimeError("no Content-Length")
        await reader.readexactly(length)
        idle.append((reader, writer))

    try:
        return await with_warmup(one, n, c)
    finally:
        for _, writer in idle:
            writer.close()


async def worker_transport(kind: str, url: str, n: int, c: int) -> Measured:
    """The worker's own event-loop transports (``wrappers.loop_http.open_transport``: the loop's
    client, or aiohttp), sending the :class:`wrappers.transport.Request` a channel builds
    (unguarded: a provider's own URL, so no SSRF check), answers capped and read whole."""
    from wrappers.loop_http import open_transport
    from wrappers.transport import Request

    transport = open_transport(kind, c)
    request = Request("POST", url, "bench", 30.0, dict(HEADERS), BODY, guarded=False)

    async def one() -> None:
        answer = await transport.send(request)
        if answer.status_code != 200:
            raise RuntimeError(f"status {answer.status_code}")

    try:
        return await with_warmup(one, n, c)
    finally:
        await transport.close()


def urllib3_threads(url: str, n: int, c: int) -> Measured:
    """``c`` threads over one ``urllib3.PoolManager(maxsize=c, block=False)`` (the threaded transport)."""
    import urllib3

    pools = urllib3.PoolManager(maxsize=c, block=False, retries=False)
    ticket = itertools.count()
    barrier = threading.Barrier(c + 1)
    per_thread: list[list[float]] = [[] for _ in range(c)]
    errors: list[BaseException] = []
    end = 0.0

    def one() -> None:
        response = pools.request("POST", url, body=BODY, headers=HEADERS)
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")

    def work(samples: list[float]) -> None:
        try:
            one()
            one()  # warm-up: 2 x c requests, c connections open
            barrier.wait()
            barrier.wait()
            while next(ticket) < n and time.perf_counter() < end:
                start = time.perf_counter()
                one()
                samples.append(time.perf_counter() - start)
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in per_thread]
    for thread in threads:
        thread.start()
    barrier.wait()
    wait_for_go()
    cpu, wall = cpu_seconds(), time.perf_counter()
    end = deadline("timed")
    barrier.wait()
    for thread in threads:
        thread.join()
    measured = [s for samples in per_thread for s in samples], time.perf_counter() - wall, cpu_seconds() - cpu
    if errors:
        raise RuntimeError(f"{len(errors)} threads failed, first: {errors[0]!r}")
    pools.clear()
    return measured


def pycurl_multi(url: str, n: int, c: int) -> Measured:
    """One thread, one ``CurlMulti``, ``c`` easy handles re-added as each transfer ends."""
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, c)
    multi.setopt(pycurl.M_MAXCONNECTS, c)
    multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_NOTHING)
    headers = [f"{k}: {v}" for k, v in HEADERS.items()] + ["Expect:"]

    def handle() -> Any:
        easy = pycurl.Curl()
        easy.setopt(pycurl.URL, url)
        easy.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        easy.setopt(pycurl.POSTFIELDS, BODY)
        easy.setopt(pycurl.HTTPHEADER, headers)
        easy.setopt(pycurl.WRITEFUNCTION, lambda data: None)  # the body is read, then dropped
        easy.setopt(pycurl.TIMEOUT, 30)
        return easy

    easies = [handle() for _ in range(c)]

    def run(count: int, phase: str) -> list[float]:
        end = deadline(phase)
        samples: list[float] = []
        started: dict[Any, float] = {}
        sent = 0
        for easy in easies[: min(c, count)]:
            started[easy] = time.perf_counter()
            multi.add_handle(easy)
            sent += 1
        while started:
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            _, done, failed = multi.info_read()
            if failed:
                raise RuntimeError(f"pycurl: {failed[0][1:]}")
            for easy in done:
                samples.append(time.perf_counter() - started.pop(easy))
                multi.remove_handle(easy)
                if easy.getinfo(pycurl.RESPONSE_CODE) != 200:
                    raise RuntimeError(f"status {easy.getinfo(pycurl.RESPONSE_CODE)}")
                if sent < count and time.perf_counter() < end:
                    started[easy] = time.perf_counter()
                    multi.add_handle(easy)
                    sent += 1
            if started and not done:
                multi.select(1.0)
        return samples

    run(2 * c, "warm-up")
    wait_for_go()
    cpu, wall = cpu_seconds(), time.perf_counter()
    samples = run(n, "timed")
    measured = samples, time.perf_counter() - wall, cpu_seconds() - cpu
    for easy in easies:
        easy.close()
    multi.close()
    return measured


def run_in_loop(main: Coroutine[Any, Any, Measured], uvloop_: bool) -> Measured:
    if uvloop_:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    else:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def child(client: str, url: str, n: int, c: int, budget: float) -> None:
    """The subprocess: one client, one concurrency; prints ``ready``, then the result line."""
    BUDGET.update({"warm-up": budget / 2, "timed": budget})
    if client == "aiohttp-uvloop":
        measured = run_in_loop(aiohttp_client(url, n, c), uvloop_=True)
    elif client == "aiohttp-asyncio":
        measured = run_in_loop(aiohttp_client(url, n, c), uvloop_=False)
    elif client == "httpx-uvloop":
        measured = run_in_loop(httpx_client(url, n, c), uvloop_=True)
    elif client == "raw-uvloop":
        measured = run_in_loop(raw_client(url, n, c), uvloop_=True)
    elif client in ("worker-native", "worker-aiohttp"):
        measured = run_in_loop(worker_transport(client.split("-")[1], url, n, c), uvloop_=True)
    elif client == "urllib3-threads":
        measured = urllib3_threads(url, n, c)
    elif client == "pycurl-multi":
        measured = pycurl_multi(url, n, c)
    else:
        raise SystemExit(f"unknown client {client}")
    samples, wall, cpu = measured
    print(json.dumps({"samples": samples, "wall_s": wall, "cpu_s": cpu}), flush=True)


# --- the parent ----------------------------------------------------------------------------------


NEEDS = {
    "aiohttp-uvloop": ["aiohttp", "uvloop"],
    "aiohttp-asyncio": ["aiohttp"],
    "httpx-uvloop": ["httpx", "uvloop"],
    "urllib3-threads": ["urllib3"],
    "raw-uvloop": ["uvloop"],
    "pycurl-multi": ["pycurl"],
    "worker-native": ["httptools", "uvloop"],
    "worker-aiohttp": ["aiohttp", "uvloop"],
}


def unavailable(clients: list[str]) -> dict[str, str]:
    """Why each client that cannot run here cannot (an import that fails, tried in a subprocess)."""
    modules = sorted({name for client in clients for name in NEEDS[client]})
    probe = "import importlib, json, sys\nfailed = {}\nfor name in sys.argv[1:]:\n    try:\n"
    probe += "        importlib.import_module(name)\n    except Exception as e:\n        failed[name] = repr(e)\n"
    probe += "print(json.dumps(failed))"
    done = subprocess.run([sys.executable, "-c", probe, *modules], capture_output=True, text=True, cwd=ROOT, check=True)
    failed = json.loads(done.stdout)
    return {c: f"import {m} failed: {failed[m]}" for c in clients for m in NEEDS[c] if m in failed}


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (every core, ``/proc/stat``), for what else ran."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def one_run(fake: FakeProvider, client: str, n: int, c: int, budget: float) -> dict[str, Any]:
    assert fake.process is not None
    fake.reset()
    cmd = [sys.executable, "-m", "bench.http_clients", "--child", client, "--url", fake.url]
    cmd += ["--requests", str(n), "--concurrency", str(c), "--budget", str(budget)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin and proc.stdout
    timer = threading.Timer(60 + 3 * budget, proc.kill)
    timer.start()
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{client} c={c}: did not start ({proc.wait()})")
        server_cpu, busy = process_cpu(fake.process.pid), machine_busy()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        server_cpu = process_cpu(fake.process.pid) - server_cpu
        busy = machine_busy() - busy
        if proc.wait() or not line:
            raise RuntimeError(f"{client} c={c}: exited {proc.returncode}")
    finally:
        timer.cancel()
    result = json.loads(line)
    samples, wall = result["samples"], result["wall_s"]
    done = len(samples)
    if done > n or done < min(n, c):
        raise RuntimeError(f"{client} c={c}: {done} round trips, not {n}")
    stats = fake.stats()
    return {
        "client": client,
        "concurrency": c,
        "requests": done,
        "capped": done < n,  # the budget ran out first
        "wall_s": wall,
        "req_per_s": done / wall,
        "pct_ideal": 100 * done / wall / (c / fake.delay),
        "cpu_us_per_req": 1e6 * result["cpu_s"] / done,
        "client_cpu_pct": 100 * result["cpu_s"] / wall,
        "provider_cpu_pct": 100 * server_cpu / wall,
        # the rest of the machine's busy time (other processes, the kernel's softirqs for loopback
        # not charged to either, this parent); high values mean the run was disturbed
        "other_cpu_pct": 100 * max(0.0, busy - server_cpu - result["cpu_s"]) / wall,
        "added_p50_ms": 1e3 * (percentile(samples, 0.5) - fake.delay),
        "added_p99_ms": 1e3 * (percentile(samples, 0.99) - fake.delay),
        "provider_requests": stats["requests"],
        "provider_connections": stats["connections"],
    }


FIELDS = (
    "requests",
    "req_per_s",
    "pct_ideal",
    "cpu_us_per_req",
    "client_cpu_pct",
    "provider_cpu_pct",
    "other_cpu_pct",
    "added_p50_ms",
    "added_p99_ms",
    "provider_connections",
)


def summarise(runs: list[dict[str, Any]], clients: list[str], levels: list[int]) -> list[dict[str, Any]]:
    rows = []
    for c in levels:
        rounds = sorted({r["round"] for r in runs})
        best_rps = {k: max(r["req_per_s"] for r in runs if r["round"] == k and r["concurrency"] == c) for k in rounds}
        least_cpu = {
            k: min(r["cpu_us_per_req"] for r in runs if r["round"] == k and r["concurrency"] == c) for k in rounds
        }
        for client in clients:
            mine = [r for r in runs if r["client"] == client and r["concurrency"] == c]
            row: dict[str, Any] = {"client": client, "concurrency": c, "rounds": len(mine), "ideal": c / DELAY}
            for field in FIELDS:
                row[field] = statistics.median(r[field] for r in mine)
            row["capped_rounds"] = sum(r["capped"] for r in mine)
            row["x_best"] = statistics.median(r["req_per_s"] / best_rps[r["round"]] for r in mine)
            row["cpu_x_least"] = statistics.median(r["cpu_us_per_req"] / least_cpu[r["round"]] for r in mine)
            rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| client | c | requests | req/s | x best | % ideal | CPU µs/req | CPU x least | added p50 / p99 ms "
        "| client CPU % | provider CPU % | other CPU % | conns |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        capped = f" (capped {r['capped_rounds']}/{r['rounds']})" if r["capped_rounds"] else ""
        lines.append(
            f"| {r['client']} | {r['concurrency']} | {r['requests']:,.0f}{capped} "
            f"| {r['req_per_s']:,.0f} | {r['x_best']:.2f} "
            f"| {r['pct_ideal']:.0f} % | {r['cpu_us_per_req']:.0f} | {r['cpu_x_least']:.2f} "
            f"| {r['added_p50_ms']:.1f} / {r['added_p99_ms']:.1f} "
            f"| {r['client_cpu_pct']:.0f} | {r['provider_cpu_pct']:.0f} | {r['other_cpu_pct']:.0f} "
            f"| {r['provider_connections']:.0f} |"
        )
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    found = {}
    for name in ("aiohttp", "uvloop", "httpx", "httpcore", "urllib3", "pycurl"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--requests", type=int, help="per client and concurrency (default 3000 at c=64, 10000 at c=512)"
    )
    parser.add_argument("--concurrency", default="64,512")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument(
        "--budget", type=float, default=BUDGET["timed"], help="seconds per timed run before a client is cut (capped)"
    )
    parser.add_argument("--json", type=Path, help="write the runs and the summary here")
    parser.add_argument("--list", action="store_true", help="name the clients and exit")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    levels = [int(x) for x in options.concurrency.split(",")]
    if options.child:
        child(options.child, options.url, options.requests, levels[0], options.budget)
        return {}
    if options.list:
        print("\n".join(CLIENTS))
        return {}
    say = (lambda *a: None) if options.silent else (lambda *a: print(*a, file=sys.stderr, flush=True))
    wanted = [x for x in options.clients.split(",") if x]
    unknown = set(wanted) - set(CLIENTS)
    if unknown:
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    skipped = unavailable(wanted)
    clients = [name for name in wanted if name not in skipped]
    for name, why in skipped.items():
        say(f"skipped {name}: {why}")
    runs: list[dict[str, Any]] = []
    started, load_before = time.time(), Path("/proc/loadavg").read_text().split()[:3]
    with FakeProvider(delay=DELAY) as fake:
        for k in range(options.rounds):
            for c in levels:
                n = options.requests or DEFAULT_REQUESTS.get(c, 20 * c)
                order = clients[k % len(clients) :] + clients[: k % len(clients)]  # rotate: no fixed first slot
                for client in order:
                    run = one_run(fake, client, n, c, options.budget) | {"round": k}
                    say(
                        f"round {k + 1} c={c} {client}: {run['req_per_s']:,.0f} req/s, "
                        f"{run['cpu_us_per_req']:.0f} µs CPU/req, provider CPU {run['provider_cpu_pct']:.0f} %, "
                        f"other CPU {run['other_cpu_pct']:.0f} %"
                    )
                    runs.append(run)
    rows = summarise(runs, clients, levels)
    document = {
        "meta": {
            "command": "python -m bench.http_clients " + " ".join(sys.argv[1:] if argv is None else argv),
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model(),
            "python": platform.python_version(),
            "versions": versions(),
            "delay_s": DELAY,
            "rounds": options.rounds,
            "budget_s": options.budget,
            "body_bytes": len(BODY),
            "skipped": skipped,
            "duration_s": time.time() - started,
            "loadavg_before": load_before,
            "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
            "note": "the fake provider (one asyncio process) and the client share this machine's cores",
        },
        "summary": rows,
        "runs": runs,
    }
    if options.json:
        options.json.write_text(json.dumps(document, indent=1))
    if not options.silent:
        print(table(rows))
        print(
            f"\n{os.cpu_count()} CPUs ({cpu_model()}), shared by the fake provider and the client. "
            f"Medians of {options.rounds} rounds; ideal = c / {DELAY} s; body {len(BODY)} bytes."
        )
        for name, why in skipped.items():
            print(f"skipped {name}: {why}")
    return document


if __name__ == "__main__":
    main()
