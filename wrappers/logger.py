"""Log setup: one masked, structured stream for every record (``rq``'s and ours).

- JSON lines on stderr by default (``--log-format text`` for plain text), carrying the time, level,
  logger, message and the job context (worker, queue, job id, channel, gateway, attempt, outcome,
  duration) where it applies;
- the :class:`MaskingFilter` is attached to every handler, so no handler sees an unmasked record;
- optionally an Elasticsearch handler (``ELASTICSEARCH_URL``) shipping job events in bulk.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from wrappers import context
from wrappers.masking import mask_text, mask_value

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context_text)s"


class MaskingFilter(logging.Filter):
    """Render the message once, masked; mask the traceback; add the job context to the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_fusion_masked", False):
            message = record.getMessage()
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = mask_text(record.exc_text)
            record.msg, record.args = mask_text(message), None
            for name, value in context.current().items():
                if not hasattr(record, name):
                    setattr(record, name, value)
            for name in context.FIELDS:
                if isinstance(getattr(record, name, None), str):
                    setattr(record, name, mask_text(getattr(record, name)))
            record._fusion_masked = True
        return True


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a (filtered) record."""
    doc: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    for name in context.FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            doc[name] = value
    details = getattr(record, "details", None)
    if isinstance(details, dict):
        doc["details"] = mask_value(details)
    if record.exc_text:
        doc["exception"] = record.exc_text
    return doc


#: Elastic Common Schema version the documents shipped to Elasticsearch follow.
ECS_VERSION = "8.11"
#: Our fields -> their ECS names (the rest stay as they are, as custom fields).
ECS_NAMES = {
    "level": "log.level",
    "logger": "log.logger",
    "worker": "service.node.name",
    "exception": "error.stack_trace",
}
_ECS_OUTCOME = {"finished": "success", "failed": "failure"}


def ecs_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A record's fields in the Elastic Common Schema, so Kibana's defaults work: ``@timestamp``,
    ``log.level``, ``log.logger``, ``message``, ``service.*``, ``event.*`` (``event.duration`` in
    nanoseconds, ``event.outcome`` success/failure/unknown, ``event.dataset`` ``fusion.job`` for
    a job's outcome), ``error.*``; the worker's own fields
    (``job_id``, ``queue``, ``channel``, ``gateway``, ``attempt``, ``outcome``...) are kept too."""
    out: dict[str, Any] = {"@timestamp": doc.get("time"), "ecs": {"version": ECS_VERSION}}
    out["service"] = {"name": "fusion-worker", "type": "worker"}
    for name, value in doc.items():
        if name in ("time", "event"):
            continue
        _put(out, ECS_NAMES.get(name, name), value)
        if name in ECS_NAMES:
            out[name] = value  # the worker's own name too: its dashboards and tests read it
    if doc.get("event"):
        _put(out, "event.dataset", f"fusion.{doc['event']}")
    if doc.get("event") == "job":
        _put(out, "event.kind", "event")
        _put(out, "event.category", "process")
        _put(out, "event.outcome", _ECS_OUTCOME.get(str(doc.get("outcome")), "unknown"))
        if isinstance(doc.get("duration"), int | float):
            _put(out, "event.duration", int(doc["duration"] * 1e9))
        if doc.get("reason"):
            _put(out, "error.message", doc["reason"])
    return out


def _put(doc: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` as nested objects (ECS's shape), keeping a flat field of the same first name."""
    *parents, last = dotted.split(".")
    target = doc
    for part in parents:
        existing = target.get(part)
        if not isinstance(existing, dict):
            existing = target[part] = {} if existing is None else {"value": existing}
        target = existing
    target[last] = value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in record_fields(record).items() if k in context.FIELDS}
        record.context_text = " " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else ""
        return super().format(record)


def _fusion_handlers(root: logging.Logger) -> list[logging.Handler]:
    return [h for h in root.handlers if getattr(h, "_fusion", False)]


def add_handler(handler: logging.Handler) -> logging.Handler:
    """Attach a handler to the root logger with the masking filter (the only way we add one)."""
    handler.addFilter(MaskingFilter())
    handler._fusion = True  # type: ignore[attr-defined]
    logging.getLogger().addHandler(handler)
    return handler


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send all records (``rq`` and ours) through one masked handler on stderr."""
    root = logging.getLogger()
    for handler in _fusion_handlers(root):
        root.removeHandler(handler)
        handler.close()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    add_handler(handler)
    root.setLevel(level.upper())
    for name in ("rq.worker", "rq.job", "rq.queue", "rq.scheduler"):
        logging.getLogger(name).propagate = True
    for noisy in (
        "urllib3",
        "botocore",
        "boto3",
        "s3transfer",
        "elastic_transport",
        "httpx",
        "httpcore",
        "hpack",
        "h2",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
