"""Job functions the server enqueues. Each takes one ``task`` dict.

``tasks.dispatch`` routes on ``task["payload"]["task"]``: 1 SMS, 2 e-mail, 3 push, 4 webhook,
5 WhatsApp. Only functions under ``tasks.`` may run (``JOB_FUNCTION_ALLOWLIST``).
"""

from __future__ import annotations

from typing import Any


def dispatch(task: Any) -> Any:
    """Run the channel function that the task's channel code names."""
    from tasks import email, push_notification, sms, webhooks, whatsapp
    from tasks.payload import EMAIL, PUSH, SMS, WEBHOOK, WHATSAPP, channel_of, payload_of

    routes = {
        SMS: sms.send_sms,
        EMAIL: email.send_email,
        PUSH: push_notification.send_push,
        WEBHOOK: webhooks.send_webhook,
        WHATSAPP: whatsapp.send_whatsapp,
    }
    return routes[channel_of(payload_of(task))](task)
