"""Shipping job events to Elasticsearch in bulk, from a background thread.

``emit`` only puts the document on a bounded in-memory buffer and returns at once: Elasticsearch
being slow or down never blocks or fails a job. A thread flushes by size (``batch``) or time
(``interval``), retrying a failed bulk with backoff; documents that can't be delivered — buffer
full, or retries exhausted — are counted (``dropped``, and the ``fusion_log_records_dropped``
metric) and reported in a warning. Uses the official ``elasticsearch`` 9.x client (talks to
Elasticsearch 9 servers; pin ``elasticsearch>=8,<9`` for an 8.x cluster).
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from wrappers.logger import record_fields

#: Index name pattern (strftime on the event's UTC time).
DEFAULT_INDEX = "fusion-worker-%Y.%m.%d"


class ElasticsearchHandler(logging.Handler):
    """A logging handler that ships job events (and warnings or worse) to Elasticsearch."""

    def __init__(
        self,
        url: str,
        index: str = DEFAULT_INDEX,
        batch: int = 500,
        interval: float = 2.0,
        capacity: int = 10_000,
        attempts: int = 3,
        client: Any = None,
    ) -> None:
        super().__init__(logging.INFO)
        self.url, self.index, self.batch, self.interval, self.attempts = url, index, batch, interval, attempts
        self.buffer: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(maxsize=capacity)
        self.dropped = 0
        self.shipped = 0
        self._client = client
        self._owner = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fusion-elasticsearch", daemon=True)
        self._thread.start()

    @property
    def client(self) -> Any:
        if self._client is None:
            from elasticsearch import Elasticsearch

            self._client = Elasticsearch(self.url, request_timeout=5, max_retries=0, retry_on_timeout=False)
        return self._client

    def wanted(self, record: logging.LogRecord) -> bool:
        return getattr(record, "event", None) == "job" or record.levelno >= logging.WARNING

    def emit(self, record: logging.LogRecord) -> None:
        if os.getpid() != self._owner or not self.wanted(record) or record.name.startswith("elastic"):
            return
        try:
            doc = record_fields(record)
            doc["@timestamp"] = doc.pop("time")
            index = datetime.fromtimestamp(record.created, UTC).strftime(self.index)
            self.buffer.put_nowait((index, doc))
        except queue.Full:
            self._drop(1, "buffer full")
        except Exception:
            self.handleError(record)

    def _drop(self, count: int, why: str) -> None:
        from rq_ext.metrics import LOG_DROPPED

        self.dropped += count
        LOG_DROPPED.inc(count)
        sys.stderr.write(f"elasticsearch: dropped {count} log document(s) ({why}); {self.dropped} in all\n")

    def _take_batch(self) -> list[tuple[str, dict[str, Any]]]:
        items: list[tuple[str, dict[str, Any]]] = []
        deadline = time.monotonic() + self.interval
        while len(items) < self.batch:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or (self._stop.is_set() and self.buffer.empty()):
                break
            try:
                items.append(self.buffer.get(timeout=min(timeout, 0.1)))
            except queue.Empty:
                continue
        return items

    def _send(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        operations: list[dict[str, Any]] = []
        for index, doc in items:
            operations += [{"index": {"_index": index}}, doc]
        delay = 0.5
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.bulk(operations=operations)
                failed = sum(1 for item in response.get("items", []) if item.get("index", {}).get("status", 500) >= 300)
                self.shipped += len(items) - failed
                if failed:
                    self._drop(failed, "rejected by Elasticsearch")
                return
            except Exception as exc:
                if attempt == self.attempts:
                    self._drop(len(items), f"{type(exc).__name__} after {attempt} attempts")
                    return
                self._stop.wait(delay)
                delay *= 2

    def _run(self) -> None:
        while not (self._stop.is_set() and self.buffer.empty()):
            items = self._take_batch()
            if items:
                self._send(items)

    def close(self) -> None:
        """Flush what is buffered (a few seconds at most), then stop."""
        self._stop.set()
        if os.getpid() == self._owner:
            self._thread.join(timeout=10)
        super().close()
