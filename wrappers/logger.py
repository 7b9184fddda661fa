"""Log setup: every handler gets the masking filter, so no record leaves unmasked."""

from __future__ import annotations

import logging
import sys

from wrappers.masking import mask_text

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFilter(logging.Filter):
    """Render the record's message once, masked, and drop the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        record.msg = mask_text(message)
        record.args = None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Send all records (``rq`` and ours) through one masked handler on stderr."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_fusion", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskingFilter())
    handler._fusion = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("rq.worker", "rq.job", "rq.queue", "rq.scheduler"):
        logging.getLogger(name).propagate = True
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
