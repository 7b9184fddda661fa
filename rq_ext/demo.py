"""A demo batch for ``make run``: one job per channel, meant to run with ``DRY_RUN`` on."""

from __future__ import annotations

from typing import Any

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


def outcomes(connection: Redis, jobs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Status and a short note (result or last error line) of each demo job, for ``make run``."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    rows = []
    for queue, job_id in jobs:
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            rows.append({"queue": queue, "job_id": job_id, "status": "gone", "note": ""})
            continue
        rows.append({"queue": queue, "job_id": job_id, "status": _status(job), "note": _note(job)})
    return rows


def _note(job: Any) -> str:
    try:
        result = job.return_value()
    except Exception:  # a result that can't be read is no reason to fail the report
        result = None
    if isinstance(result, dict):
        wanted = ("channel", "gateway", "dry_run", "status_code")
        return " ".join(f"{k}={result[k]}" for k in wanted if k in result)
    error = job.exc_info or ""
    return error.strip().splitlines()[-1][:80] if error.strip() else ""


def render_outcomes(rows: list[dict[str, str]]) -> str:
    """A small fixed-width table of :func:`outcomes`."""
    lines = [f"{'queue':<10} {'job id':<36} {'status':<10} note", "-" * 80]
    lines += [f"{r['queue']:<10} {r['job_id']:<36} {r['status']:<10} {r['note']}" for r in rows]
    finished = sum(r["status"] == "finished" for r in rows)
    lines.append(f"{finished} of {len(rows)} demo job(s) finished")
    return "\n".join(lines)


def _status(job: Any) -> str:
    status = job.get_status()
    return str(getattr(status, "value", status))
