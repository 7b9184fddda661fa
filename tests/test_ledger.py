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


def test_a_first_run_reads_its_own_records_and_still_writes_redis(conn, settings):
    """The claim found no ledger for the job (``fresh``): pending and accepted come from this run's
    records, which also go to Redis for a later run."""
    ledger = Ledger("sms", job_id="j2", connection=conn)
    ledger.fresh = {}
    assert ledger.pending(["+911", "+912", "+913"]) == ["+911", "+912", "+913"]
    ledger.record("+912", "sid-2")
    assert ledger.pending(["+911", "+912", "+913"]) == ["+911", "+913"]
    assert ledger.accepted("+912") == "sid-2" and ledger.accepted("+911") is None
    assert conn.hgetall("fusion:delivered:j2") == {b"sms:+912": b"sid-2"}
    assert Ledger("sms", job_id="j2", connection=conn).pending(["+911", "+912"]) == ["+911"]
