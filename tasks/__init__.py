"""Job functions the server enqueues. Each takes one ``task`` dict.

``tasks.dispatch`` routes on ``task["payload"]["task"]``: 1 SMS, 2 e-mail, 3 push, 4 webhook,
5 WhatsApp. Only functions under ``tasks.`` may run (``JOB_FUNCTION_ALLOWLIST``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq_ext import sansio
from rq_ext.sansio import Plan


def route(task: Any) -> Callable[[Any], Any]:
    """The channel function that the task's channel code names."""
    from tasks import email, push_notification, sms, webhooks, whatsapp
    from tasks.payload import EMAIL, PUSH, SMS, WEBHOOK, WHATSAPP, channel_of, payload_of

    routes: dict[int, Callable[[Any], Any]] = {
        SMS: sms.send_sms,
        EMAIL: email.send_email,
        PUSH: push_notification.send_push,
        WEBHOOK: webhooks.send_webhook,
        WHATSAPP: whatsapp.send_whatsapp,
    }
    return routes[channel_of(payload_of(task))]


def plan_dispatch(task: Any, job: Any) -> Plan[Any] | None:
    """The sans-I/O form of the channel's function, or None when it has none (it then runs
    blocking, on a thread of the event-loop worker)."""
    planner = sansio.planner_of(route(task))
    return planner(task, job) if planner is not None else None


@sansio.plan(plan_dispatch)
def dispatch(task: Any) -> Any:
    """Run the channel function that the task's channel code names."""
    return route(task)(task)
