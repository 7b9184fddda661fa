"""EMAIL channel, code 2: `tasks.email.send_email(task)`.

The payload and the real senders are defined by their own issue; until they land, this module
validates the envelope, honours ``DRY_RUN`` (logs a masked summary) and otherwise fails the job
permanently with a clear reason.
"""

from __future__ import annotations

import logging
from typing import Any

from config import get_settings
from tasks.errors import ChannelNotAvailable
from tasks.payload import EMAIL, payload_of
from wrappers.masking import mask_value

log = logging.getLogger(__name__)


def send_email(task: Any) -> dict[str, Any]:
    """Send one email message (dry run only in this build)."""
    payload = payload_of(task, EMAIL)
    if get_settings().DRY_RUN:
        log.info("DRY_RUN email: would send %s", mask_value(payload))
        return {"dry_run": "true", "channel": "email"}
    raise ChannelNotAvailable("email sending is not implemented in this build (only DRY_RUN)")
