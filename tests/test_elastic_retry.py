"""Per-document rejections in a 200 ``_bulk`` answer (``errors: true``, per-item 429) are retried
with backoff like a failed request, then counted as dropped: the real ``elasticsearch`` client
against a local ``/_bulk`` endpoint."""

from __future__ import annotations

import json
import logging
import time

from werkzeug import Request, Response

from tests.conftest import wait_for
from wrappers.elastic import ElasticsearchHandler

HEADERS = {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}


class Bulk:
    """A ``/_bulk`` endpoint; ``verdict(request_number, doc)`` gives each document's status."""

    def __init__(self, verdict) -> None:
        self.verdict = verdict
        self.requests: list[list[dict]] = []
        self.times: list[float] = []

    def __call__(self, request: Request) -> Response:
        lines = [json.loads(line) for line in request.get_data(as_text=True).splitlines() if line.strip()]
        docs = lines[1::2]
        self.requests.append(docs)
        self.times.append(time.monotonic())
        number = len(self.requests)
        items = []
        for doc in docs:
            status = self.verdict(number, doc)
            item: dict = {"_index": "fusion-worker", "status": status}
            if status >= 300:
                item["error"] = {"type": "es_rejected_execution_exception", "reason": "queue full"}
            items.append({"index": item})
        errors = any(i["index"]["status"] >= 300 for i in items)
        return Response(json.dumps({"errors": errors, "took": 1, "items": items}), status=200, headers=HEADERS)


def ship(httpserver, verdict, count: int = 3, attempts: int = 3) -> tuple[ElasticsearchHandler, Bulk]:
    bulk = Bulk(verdict)
    httpserver.expect_request("/_bulk").respond_with_handler(bulk)
    handler = ElasticsearchHandler(httpserver.url_for("/").rstrip("/"), interval=0.1, attempts=attempts)
    try:
        for i in range(count):
            record = logging.LogRecord("fusion.test", logging.INFO, __file__, 1, f"job {i}", None, None)
            record.event = "job"
            record.job_id = f"j{i}"
            handler.emit(record)
        wait_for(lambda: handler.shipped + handler.dropped >= count, timeout=15)
    finally:
        handler.close()
    return handler, bulk


def test_rejected_documents_are_retried_then_shipped(httpserver):
    # the first request: j1 refused with 429 inside a 200 answer; the retry accepts it
    handler, bulk = ship(httpserver, lambda n, doc: 429 if n == 1 and doc["job_id"] == "j1" else 201)
    assert handler.shipped == 3 and handler.dropped == 0
    assert [[d["job_id"] for d in docs] for docs in bulk.requests] == [["j0", "j1", "j2"], ["j1"]]
    assert bulk.times[1] - bulk.times[0] >= 0.4  # backoff before the retry


def test_documents_rejected_every_time_are_dropped(httpserver, capfd):
    handler, bulk = ship(httpserver, lambda n, doc: 429 if doc["job_id"] == "j2" else 201, attempts=3)
    assert handler.shipped == 2 and handler.dropped == 1
    assert len(bulk.requests) == 3 and all(docs == bulk.requests[1] for docs in bulk.requests[1:])
    assert bulk.times[2] - bulk.times[1] >= 0.9  # the backoff doubles
    assert "dropped 1 log document(s)" in capfd.readouterr().err


def test_server_errors_per_document_are_retried(httpserver):
    handler, bulk = ship(httpserver, lambda n, doc: 503 if n < 3 else 201)
    assert handler.shipped == 3 and handler.dropped == 0 and len(bulk.requests) == 3


def test_non_retryable_rejection_is_dropped_at_once(httpserver):
    # a mapping error (400) will fail the same way again: counted as dropped, not retried
    handler, bulk = ship(httpserver, lambda n, doc: 400 if doc["job_id"] == "j0" else 201)
    assert handler.shipped == 2 and handler.dropped == 1 and len(bulk.requests) == 1
