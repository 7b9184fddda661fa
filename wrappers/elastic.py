"""Shipping job events to Elasticsearch in bulk, from a background thread.

``emit`` only puts the document on a bounded in-memory buffer and returns at once: Elasticsearch
being slow or down never blocks or fails a job. A thread flushes by size (``batch``) or time
(``interval``), retrying with backoff a failed bulk request and the documents that Elasticsearch
rejected one by one with a retryable status (429, 5xx inside a 200 answer with ``errors: true``);
documents that can't be delivered — buffer full, a non-retryable rejection, or retries
exhausted — are counted (``dropped``, and the ``fusion_log_records_dropped``
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

from wrappers.logger import ecs_document, record_fields

#: Index name pattern (strftime on the event's UTC time).
DEFAULT_INDEX = "fusion-worker-%Y.%m.%d"

#: Per-document statuses in a ``_bulk`` answer worth sending again (queue full, node busy...).
RETRYABLE_ITEM_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _item_status(item: Any) -> int:
    """The status of one entry of a ``_bulk`` answer's ``items`` (``{"index": {"status": 201}}``)."""
    if not isinstance(item, dict) or not item:
        return 503
    result = next(iter(item.values()))
    status = result.get("status") if isinstance(result, dict) else None
    return status if isinstance(status, int) else 500


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
            doc = ecs_document(record_fields(record))
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
        """Ship ``items``: a failed request, or documents rejected one by one with a retryable
        status (429, 5xx, e.g. inside a 200 answer with ``errors: true``), are sent again with
        backoff; what is still not accepted after ``attempts`` is counted as dropped."""
        pending, delay, why = items, 0.5, ""
        for attempt in range(1, self.attempts + 1):
            pending, why = self._bulk_once(pending)
            if not pending:
                return
            if attempt < self.attempts:
                self._stop.wait(delay)
                delay *= 2
        self._drop(len(pending), f"{why} after {self.attempts} attempts")

    def _bulk_once(self, items: list[tuple[str, dict[str, Any]]]) -> tuple[list[tuple[str, dict[str, Any]]], str]:
        """One ``_bulk`` request; returns the documents worth sending again, and why."""
        operations: list[dict[str, Any]] = []
        for index, doc in items:
            operations += [{"index": {"_index": index}}, doc]
        try:
            response = self.client.bulk(operations=operations)
        except Exception as exc:
            return items, type(exc).__name__
        statuses = [_item_status(item) for item in response.get("items", [])]
        statuses += [503] * (len(items) - len(statuses))  # documents the answer says nothing of
        again = [item for item, status in zip(items, statuses, strict=False) if status in RETRYABLE_ITEM_STATUSES]
        accepted = sum(1 for status in statuses[: len(items)] if status < 300)
        self.shipped += accepted
        rejected = len(items) - accepted - len(again)
        if rejected:
            self._drop(rejected, "rejected by Elasticsearch")
        return again, f"{len(again)} document(s) rejected with a retryable status"

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
