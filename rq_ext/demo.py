"""A demo batch for ``make run``: one job per channel, meant to run with ``DRY_RUN`` on."""

from __future__ import annotations

from redis import Redis

from rq_ext.producer import enqueue

DEMO_TASKS = [
    (
        "sms",
        10,
        {
            "payload": {
                "task": 1,
                "gateway": "msg91",
                "config": {"auth_key": "demo-not-a-key"},
                "template_id": "1207160000000000001",
                "to": "+919876543210",
                "message": "Your lab report is ready.",
            },
            "reference": "demo-sms",
        },
    ),
    (
        "email",
        5,
        {
            "payload": {
                "task": 2,
                "from": "Lab <reports@lab.example>",
                "to": ["patient@example.com"],
                "subject": "Your report",
                "text": "Your lab report is attached.",
            },
            "reference": "demo-email",
        },
    ),
    (
        "pn",
        5,
        {
            "payload": {
                "task": 3,
                "platform": "android",
                "tokens": ["demo-device-token-0001"],
                "title": "Report ready",
                "body": "Open the app to view it.",
            }
        },
    ),
    ("webhook", 1, {"payload": {"task": 4, "url": "https://hooks.example.com/lab", "json": {"event": "demo"}}}),
    (
        "whatsapp",
        1,
        {
            "payload": {
                "task": 5,
                "gateway": "meta",
                "config": {"phone_number_id": "100000000000001", "access_token": "demo-not-a-token"},
                "to": "+919876543210",
                "text": "Your appointment is confirmed.",
            }
        },
    ),
    ("scheduler", 0, {"payload": {"task": 4, "url": "https://hooks.example.com/scheduled", "json": {}}}),
]


def enqueue_demo(connection: Redis) -> list[tuple[str, str]]:
    """Enqueue the demo batch through ``tasks.dispatch``; returns (queue, job id) pairs."""
    return [
        (queue, enqueue(queue, "tasks.dispatch", task, priority=priority, connection=connection).id)
        for queue, priority, task in DEMO_TASKS
    ]
