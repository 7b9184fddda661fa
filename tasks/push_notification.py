"""PUSH channel, code 3: `tasks.push_notification.send_push(task)`.

The payload and the real senders are defined by their own issue; until they land, this module
validates the envelope, honours ``DRY_RUN`` (logs a masked summary) and otherwise fails the job
permanently with a clear reason.
"""

from __future__ import annotations

import logging
from typing import Any

from config import get_settings
from tasks.errors import ChannelNotAvailable
from tasks.payload import PUSH, payload_of
from wrappers.masking import mask_value

log = logging.getLogger(__name__)


def send_push(task: Any) -> dict[str, Any]:
    """Send one push notification message (dry run only in this build)."""
    payload = payload_of(task, PUSH)
    if get_settings().DRY_RUN:
        log.info("DRY_RUN push_notification: would send %s", mask_value(payload))
        return {"dry_run": "true", "channel": "push_notification"}
    raise ChannelNotAvailable("push_notification sending is not implemented in this build (only DRY_RUN)")
