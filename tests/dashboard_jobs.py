"""Job functions for the dashboard tests (allowed with ``tests.dashboard_jobs.``)."""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from errors import ProviderRejected


def flaky(task: dict[str, Any]) -> dict[str, Any]:
    """Fails permanently until the Redis key ``heal`` is set; then counts ``runs:<job id>``."""
    job = get_current_job()
    assert job is not None
    if not job.connection.get("heal"):
        raise ProviderRejected("gateway rejected +919812345678: DND registry")
    job.connection.incr(f"runs:{job.id}")
    return {"provider_id": "ok"}
