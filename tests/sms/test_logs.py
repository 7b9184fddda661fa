"""No phone number, message text, credential or token appears unmasked in any log line of a run."""

from __future__ import annotations

import logging
import re

from rq_ext import enqueue
from wrappers.logger import MaskingFilter, setup_logging

NUMBERS = ["+919876543210", "+919123456780"]
TEXT = "Asha Verma, your haemoglobin report LAB-42 is ready"
SECRETS = ["tl-secret-apikey-2291", "m91-authkey-8812", "acct-token-5531", "tw-auth-token-7788"]


def values() -> list[str]:
    digits = [n.lstrip("+") for n in NUMBERS] + [n[3:] for n in NUMBERS]
    return [*NUMBERS, *digits, TEXT, "haemoglobin", *SECRETS]


def test_logs_of_a_full_run_are_masked(conn, settings_factory, run_worker, httpserver, caplog):
    setup_logging("DEBUG")  # the worker's own log setup (urllib3 kept at WARNING)
    caplog.set_level(logging.DEBUG)
    account = {
        "gateway": "twilio",
        "account_sid": "AC1",
        "auth_token": SECRETS[3],
        "sender": "+14155552671",
        "base_url": httpserver.url_for("/tw"),
    }
    settings_factory(SMS_ACCOUNTS={"lab": account}, FUSION_SERVER="")
    echo = {"status": "failure", "errors": [{"message": f"cannot send '{TEXT}' to {NUMBERS[0]} with {SECRETS[0]}"}]}
    httpserver.expect_request("/tl/send/").respond_with_json(echo)
    httpserver.expect_request("/m91/api/sendhttp.php").respond_with_data(f"busy {SECRETS[1]}", status=503)
    httpserver.expect_request("/tw/2010-04-01/Accounts/AC1/Messages.json").respond_with_json(
        {"sid": "SM9", "status": "queued"}, status=201
    )
    httpserver.expect_request("/cb").respond_with_data("ok")
    m91 = {"gateway": "msg91_sendhttp", "config": {"auth_key": SECRETS[1], "base_url": httpserver.url_for("/m91")}}
    jobs = [
        {"gateway": "textlocal", "config": {"api_key": SECRETS[0], "base_url": httpserver.url_for("/tl")}},
        {**m91, "fallback": [{"account": "lab"}]},
        {**m91, "token": SECRETS[2]},
        {"gateway": "textlocal", "config": {"api_key": SECRETS[0]}, "to": "+91 55555"},
    ]
    for i, extra in enumerate(jobs):
        task = {
            "payload": {"task": 1, "to": NUMBERS, "message": TEXT, "sender": "LABXYZ", **extra},
            "reference": f"r{i}",
        }
        enqueue(
            "sms",
            "tasks.sms.send_sms",
            task,
            connection=conn,
            success_task_handler=httpserver.url_for("/cb"),
            failed_task_handler=httpserver.url_for("/cb"),
        )
    run_worker(["sms"])

    assert len(caplog.records) > 5
    masking = MaskingFilter()
    lines = []
    for record in caplog.records:
        if record.name == "werkzeug":  # the fake provider's own access log, not the worker's
            continue
        raw = record.getMessage() + (record.exc_text or "")
        masking.filter(record)
        lines.append((raw, record.getMessage() + (record.exc_text or "")))
    for raw, masked in lines:
        for value in values():
            assert value not in masked, (value, masked)
        for value in [TEXT, "haemoglobin", *SECRETS]:
            assert value not in raw, (value, raw)
        assert not re.search(r"(?<!\*)98765\d{5}", raw), raw
    # The line of an accepted send (its masked arguments are built only when INFO is on).
    assert any(m.startswith("sms accepted by twilio for ********3210") for _, m in lines), lines


def test_the_previous_tests_log_setup_was_undone():
    """(Runs after the test above.) Its ``setup_logging("DEBUG")`` did not outlive it."""
    root = logging.getLogger()
    assert root.level != logging.DEBUG
    assert not [h for h in root.handlers if getattr(h, "_fusion", False)]
