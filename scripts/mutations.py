"""Mutations the suite once missed: each is a one-line change to the code, applied in turn; the
named tests must fail on it (the mutant is "killed"). Run: ``.venv/bin/python scripts/mutations.py``.

The file is restored after each mutant, whatever happens.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (what, file, text, replacement, tests that must fail)
MUTANTS = [
    (
        "success callback written before the job is finished (in-process class)",
        "rq_ext/worker.py",
        "        job.run.writes = self._writes(job, queue.name, decision)\n        resilience.until_redis_answers(\n"
        "            lambda: super(FusionWorkerMixin, self).handle_job_success(",
        "        job.run.writes = self._writes(job, queue.name, decision)\n"
        "        _early(self.connection, decision)\n        resilience.until_redis_answers(\n"
        "            lambda: super(FusionWorkerMixin, self).handle_job_success(",
        "tests/test_outcome_path.py::test_success_callback_is_sent_only_once_the_job_is_finished",
    ),
    (
        "success callback written before the job is finished (concurrent class)",
        "rq_ext/concurrent.py",
        "        entry = decision.entries[0] if decision.entries else None\n",
        "        entry = None\n        _early(self.connection, decision)\n",
        "tests/test_outcome_path.py::test_success_callback_is_sent_only_once_the_job_is_finished",
    ),
    (
        "a 4xx answer to a callback counted as delivered",
        "rq_ext/sender.py",
        '    raise Undeliverable(f"HTTP {status}")',
        "    return",
        "tests/test_retry_and_callbacks.py -k 4xx",
    ),
    (
        "a raw requests.ConnectTimeout classified permanent",
        "rq_ext/classify.py",
        "    if isinstance(exc, TRANSPORT_ERRORS):",
        "    if isinstance(exc, requests.ConnectTimeout):\n        return Failure(False, reason)\n"
        "    if isinstance(exc, TRANSPORT_ERRORS):",
        "tests/test_outcome_path.py::test_transport_errors_are_retryable",
    ),
    (
        "the whitelist matched anywhere in the URL",
        "tasks/webhooks.py",
        "if not re.match(get_settings().WEBHOOK_WHITELIST, url):",
        "if not re.search(get_settings().WEBHOOK_WHITELIST, url):",
        "tests/test_outcome_path.py::test_whitelist_is_anchored_at_the_start",
    ),
    (
        "a delivered webhook not written to the delivery ledger",
        "tasks/webhooks.py",
        '    ledger.record("request", str(result["status_code"]))',
        "    pass",
        "tests/test_outcome_path.py::test_webhook_accepted_is_written_to_the_ledger",
    ),
    (
        "recovery taking a live claim while another has expired",
        "rq_ext/scripts.py",
        "local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],",
        "local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '+inf',",
        "tests/test_outcome_path.py::test_recovery_takes_only_expired_claims",
    ),
    (
        "a claim that no longer removes the job from its queue",
        "rq_ext/batch_scripts.py",
        "      redis.call('ZREM', q, unpack(ids))\n",
        "",
        "tests/test_outcome_path.py::test_claim_takes_the_job_out_of_its_queue",
    ),
    (
        "the ledger's write not waiting out a Redis outage",
        "rq_ext/ledger.py",
        '            resilience.until_redis_answers(lambda: self._write(field, value), f"ledger of job {self.job_id}")',
        "            self._write(field, value)",
        "tests/test_faults.py -k 'redis_killed and concurrent'",
    ),
]

#: Helper the two "callback before finished" mutants call: the entry written and sent at once,
#: before the job's final state (what the old code did with its inline POST).
EARLY = """


def _early(connection, decision):  # mutant helper
    from config import get_settings as _gs
    from rq_ext import outbox as _o
    from rq_ext.sender import Sender as _S

    with connection.pipeline() as p:
        _o.stage(p, decision.entries)
        p.execute()
    _S(connection, _gs()).drain(5)
"""


def run(what: str, path: str, text: str, replacement: str, tests: str) -> bool:
    file = ROOT / path
    original = file.read_text()
    assert text in original, f"{what}: the text to mutate is not in {path}"
    mutated = original.replace(text, replacement, 1)
    if "_early(" in replacement:
        mutated = mutated.rstrip("\n") + EARLY
    try:
        file.write_text(mutated)
        result = subprocess.run(
            f"{ROOT}/.venv/bin/pytest -q -x -p no:randomly {tests}", shell=True, cwd=ROOT, capture_output=True
        )
    finally:
        file.write_text(original)
    killed = result.returncode != 0
    print(f"{'killed ' if killed else 'SURVIVED'}  {what}")
    return killed


def main() -> int:
    results = [run(*mutant) for mutant in MUTANTS]
    print(f"{sum(results)} of {len(results)} mutants killed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
