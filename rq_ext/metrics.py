"""Prometheus metrics (``--metrics-port``; off by default).

Each worker process serves its own endpoint (give each process its own port, e.g. 9101, 9102,
…); the forking worker records job metrics in the parent process after the work horse exits, so
nothing is lost across forks. Queue depth and oldest-job age are read from Redis at scrape time.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import MetricsHandler
from redis import Redis

from rq_ext import breakers, contract, outbox

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

JOBS = Counter("fusion_jobs", "Jobs ended, by outcome", ["queue", "channel", "gateway", "outcome"], registry=REGISTRY)
DURATION = Histogram(
    "fusion_job_duration_seconds",
    "Time a job ran",
    ["queue", "channel"],
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180),
)
WAIT = Histogram(
    "fusion_job_queue_wait_seconds",
    "Time from enqueue to start",
    ["queue"],
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 120, 300, 900, 3600),
)
IN_FLIGHT = Gauge("fusion_jobs_in_flight", "Jobs running now in this process", registry=REGISTRY)
RETRIES = Counter(
    "fusion_job_retries", "Jobs that failed and were handed over for a retry", ["queue"], registry=REGISTRY
)
RECOVERED = Counter("fusion_recovered_jobs", "Abandoned jobs put back into their queue", registry=REGISTRY)
#: Cluster-wide counters kept in this Redis hash (work horses can't update the parent's metrics).
STATS_KEY = contract.STATS
#: The client's process metrics (CPU, memory, file descriptors) and Python's (GC, version).
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
LOG_DROPPED = Counter("fusion_log_records_dropped", "Log documents dropped (Elasticsearch)", registry=REGISTRY)


class QueueCollector:
    """Queue depth and oldest-job age per queue, read from Redis when scraped."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from rq_ext.stats import snapshot

        try:
            snap = snapshot(self.connection)
            stats = {contract.text(k): int(v) for k, v in self.connection.hgetall(STATS_KEY).items()}
            outbox_pending = outbox.pending(self.connection)
            tripped = breakers.read_all(self.connection)
        except Exception as exc:  # a scrape must never crash the worker
            log.warning("metrics: cannot read queues (%s)", type(exc).__name__)
            return
        yield from _queue_families(snap)
        yield from _cluster_families(snap, outbox_pending)
        given_up = CounterMetricFamily(
            "fusion_callback_failures", "Outbox entries given up (all workers)", labels=["kind"]
        )
        for kind in ("callback", "retry"):
            given_up.add_metric([kind], stats.get(f"outbox_given_up:{kind}", 0))
        yield given_up
        yield from _breaker_families(tripped, stats)


def _breaker_families(tripped: list[breakers.BreakerView], stats: dict[str, int]) -> Iterator[Any]:
    """Breakers by state, each tripped one's state, and trips and skips per channel and gateway."""
    by_state = GaugeMetricFamily(
        "fusion_breakers", "Circuit breakers tripped in the last day, by state", labels=["state"]
    )
    for state in breakers.STATES:
        by_state.add_metric([state], float(sum(1 for v in tripped if v.state == state)))
    yield by_state
    each = GaugeMetricFamily(
        "fusion_breaker_state",
        "A tripped breaker's state: 0 closed, 1 open, 2 half-open",
        labels=["channel", "gateway", "account"],
    )
    for v in tripped:
        each.add_metric([v.channel, v.gateway, v.account], float(breakers.STATES.index(v.state)))
    yield each
    for name, prefix, doc in (
        ("fusion_breaker_trips", contract.BREAKER_TRIPS_STAT, "Times a circuit breaker opened (all workers)"),
        ("fusion_breaker_skips", contract.BREAKER_SKIPS_STAT, "Attempts skipped by an open breaker (all workers)"),
    ):
        family = CounterMetricFamily(name, doc, labels=["channel", "gateway"])
        for field, value in stats.items():
            if field.startswith(prefix):
                channel, _, gateway = field[len(prefix) :].partition(":")
                family.add_metric([channel, gateway], value)
        yield family


def _queue_families(snap: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    per_queue = {
        "fusion_queue_depth": ("Jobs waiting in the queue", "depth"),
        "fusion_queue_oldest_age_seconds": ("Age of the oldest waiting job", "oldest_age"),
        "fusion_queue_started": ("Jobs of the queue in rq's started registry", "started"),
        "fusion_queue_failed": ("Jobs of the queue in its failed registry", "failed"),
    }
    for name, (doc, field) in per_queue.items():
        family = GaugeMetricFamily(name, doc, labels=["queue"])
        for queue in snap["queues"]:
            family.add_metric([queue["name"]], float(queue[field] or 0))
        yield family


def _cluster_families(snap: dict[str, Any], outbox_pending: int) -> Iterator[GaugeMetricFamily]:
    figures = {
        "fusion_delayed_jobs": ("Jobs waiting in schedulerSet", snap["scheduled"]),
        "fusion_awaiting_retry_jobs": ("Jobs handed to /retryTask/ and not taken again yet", snap["awaiting_retry"]),
        "fusion_claimed_jobs": ("Jobs in the hands of workers (all workers)", snap["claims"]),
        "fusion_outbox_pending": ("Callbacks and hand-overs waiting for delivery", outbox_pending),
        "fusion_workers": ("Live workers", len(snap["workers"])),
    }
    for name, (doc, value) in figures.items():
        yield GaugeMetricFamily(name, doc, value=float(value))


def count(connection: Redis, name: str) -> None:
    """Add one to a cluster-wide counter (safe from a work horse); never raises."""
    try:
        connection.hincrby(STATS_KEY, name, 1)
    except Exception:
        log.debug("stats counter %s not updated", name)


_started: dict[str, Any] = {}


class OnlyMetrics(MetricsHandler):
    """prometheus_client's handler, answering ``GET /metrics`` only (404 for any other path)."""

    registry = REGISTRY

    def do_GET(self) -> None:
        if urlsplit(self.path).path != "/metrics":
            self.send_error(404, "only /metrics is served")
            return
        super().do_GET()


class MetricsServer(ThreadingHTTPServer):
    daemon_threads = True


def listener(port: int, addr: str) -> MetricsServer:
    """A server bound to ``addr`` (IPv4 or IPv6) and ``port`` answering :class:`OnlyMetrics`."""
    family = socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET
    server_class = type("MetricsServer", (MetricsServer,), {"address_family": family})
    return server_class((addr, port), OnlyMetrics)


def serve(port: int, connection: Redis, addr: str | None = None) -> None:
    """Serve /metrics on ``port`` from a daemon thread (once per process), bound to ``addr``
    (``METRICS_BIND``, 127.0.0.1 unless set: put a scraper on the host or bind deliberately)."""
    if "server" in _started:
        return
    if addr is None:
        from config import get_settings

        addr = get_settings().METRICS_BIND
    server = listener(port, addr)
    REGISTRY.register(QueueCollector(connection))
    thread = threading.Thread(target=server.serve_forever, name="fusion-metrics", daemon=True)
    thread.start()
    _started["server"] = (server, thread)
    log.info("metrics on http://%s:%d/metrics", addr if ":" not in addr else f"[{addr}]", port)
