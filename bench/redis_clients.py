"""``python -m bench.redis_clients [--calls N]``: CPU per round trip of the event loop's two Redis
clients, side by side in one process against a private ``redis-server``: redis-py's asyncio
client and the loop's own (:mod:`rq_ext.resp`). Three shapes the worker sends: a claim-sized
script call (80 arguments) in a pipeline, a ledger batch of 16 commands, one EVALSHA alone.
Figures are this process's CPU (user + system) per call, the loop's own I/O included."""

from __future__ import annotations

import argparse
import resource
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from redis.asyncio import Redis

from bench.redis_server import RedisServer
from rq_ext.resp import LeanRedis

SCRIPT = "return #ARGV"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def per_call(calls: int, one: Callable[[], Awaitable[Any]]) -> float:
    """Microseconds of CPU per call of ``one``."""
    await one()  # connected, script loaded
    began = cpu()
    for _ in range(calls):
        await one()
    return (cpu() - began) / calls * 1e6


async def shapes(client: Any, sha: str, calls: int) -> dict[str, float]:
    args = [f"arg{i}" for i in range(80)]

    async def claim() -> None:
        async with client.pipeline(transaction=False) as pipe:
            pipe.evalsha(sha, 2, "a", "b", *args)
            await pipe.execute(raise_on_error=False)

    async def ledger() -> None:
        async with client.pipeline(transaction=False) as pipe:
            for i in range(8):
                pipe.hset(f"k{i}", "f", "v")
                pipe.expire(f"k{i}", 100)
            await pipe.execute(raise_on_error=False)

    async def single() -> None:
        await client.evalsha(sha, 1, "k", 1, 2)

    return {
        "script call, 80 args, pipelined": await per_call(calls, claim),
        "ledger batch, 16 commands": await per_call(calls, ledger),
        "one EVALSHA": await per_call(calls, single),
    }


async def measure(port: int, calls: int) -> dict[str, dict[str, float]]:
    clients = {"redis-py asyncio": Redis(port=port), "loop's own (rq_ext.resp)": LeanRedis(port=port)}
    results = {}
    try:
        for name, client in clients.items():
            sha = await client.script_load(SCRIPT)
            results[name] = await shapes(client, sha, calls)
    finally:
        for client in clients.values():
            await client.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    options = parser.parse_args()
    with RedisServer() as server:
        results = uvloop.run(measure(server.port, options.calls))
    names = list(results)
    print("| call | " + " | ".join(f"{n} µs" for n in names) + " | ratio |")
    print("|---|" + "--:|" * (len(names) + 1))
    for shape in results[names[0]]:
        a, b = results[names[0]][shape], results[names[1]][shape]
        print(f"| {shape} | {a:.0f} | {b:.0f} | {a / b:.1f}x |")


if __name__ == "__main__":
    main()
