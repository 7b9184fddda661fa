"""The delivery ledger: accepted items are remembered per job and channel."""

from __future__ import annotations

from rq_ext.ledger import TTL, Ledger


def test_records_and_pending(conn, settings):
    ledger = Ledger("push", job_id="j1", connection=conn)
    assert ledger.pending(["a", "b", "c"]) == ["a", "b", "c"]
    ledger.record("b", "msg-2")
    assert ledger.accepted("b") == "msg-2" and ledger.accepted("a") is None
    assert ledger.pending(["a", "b", "c"]) == ["a", "c"]
    assert 0 < conn.ttl("fusion:delivered:j1") <= TTL
    assert Ledger("email", job_id="j1", connection=conn).accepted("b") is None  # per channel


def test_outside_a_job_it_is_inert(settings):
    ledger = Ledger("webhook")
    assert not ledger.active and ledger.pending(["x"]) == ["x"] and ledger.accepted("x") is None
    ledger.record("x", "id")  # no error, nothing stored
