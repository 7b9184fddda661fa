"""WHATSAPP channel, code 5: `tasks.whatsapp.send_whatsapp(task)`.

The payload and the real senders are defined by their own issue; until they land, this module
validates the envelope, honours ``DRY_RUN`` (logs a masked summary) and otherwise fails the job
permanently with a clear reason.
"""

from __future__ import annotations

import logging
from typing import Any

from config import get_settings
from tasks.errors import ChannelNotAvailable
from tasks.payload import WHATSAPP, payload_of
from wrappers.masking import mask_value

log = logging.getLogger(__name__)


def send_whatsapp(task: Any) -> dict[str, Any]:
    """Send one whatsapp message (dry run only in this build)."""
    payload = payload_of(task, WHATSAPP)
    if get_settings().DRY_RUN:
        log.info("DRY_RUN whatsapp: would send %s", mask_value(payload))
        return {"dry_run": "true", "channel": "whatsapp"}
    raise ChannelNotAvailable("whatsapp sending is not implemented in this build (only DRY_RUN)")
