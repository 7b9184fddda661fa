"""rq_ext.timeline: per-minute buckets written per batch, read as chart series."""

from __future__ import annotations

from rq_ext import timeline


def test_record_batches_one_hincrby_per_label_set_and_one_expire(conn):
    now = 1_800_000_000.0
    outcomes = [("sms", "sms", "msg91", "finished")] * 3 + [
        ("sms", "sms", "msg91", "failed"),
        ("email", "email", "-", "finished"),
    ]
    with conn.pipeline() as pipe:
        assert timeline.record(pipe, outcomes, now) == 3
        assert len(pipe.command_stack) == 4  # 3 HINCRBY + 1 EXPIRE
        pipe.execute()
    key = timeline.minute_key(now)
    assert conn.hgetall(key) == {
        b"sms|sms|msg91|finished": b"3",
        b"sms|sms|msg91|failed": b"1",
        b"email|email|-|finished": b"1",
    }
    assert 0 < conn.ttl(key) <= timeline.TTL
    with conn.pipeline() as pipe:
        assert timeline.record(pipe, [], now) == 0
        assert not pipe.command_stack


def test_series_per_dimension_and_step(conn):
    now = 1_800_000_000.0
    with conn.pipeline() as pipe:
        timeline.record(pipe, [("sms", "sms", "msg91", "finished")] * 2, now - 120)
        timeline.record(pipe, [("sms", "sms", "a|b", "failed"), ("sms", "sms", "msg91", "retried")], now)
        pipe.execute()
    by_queue = timeline.series(conn, "queue", 60, 1, now)
    assert by_queue["step"] == 60 and by_queue["start"] == (int(now // 60) - 59) * 60
    assert by_queue["series"]["sms"]["finished"][-3] == 2 and by_queue["series"]["sms"]["failed"][-1] == 1
    assert len(by_queue["series"]["sms"]["finished"]) == 60
    by_gateway = timeline.series(conn, "gateway", 60, 60, now)["series"]
    assert by_gateway == {"a_b": {"finished": [0], "failed": [1]}, "msg91": {"finished": [2], "failed": [0]}}
    assert timeline.totals(conn, 60, now) == {"sms": {"finished": 2, "failed": 1}}
    assert len(timeline.series(conn, "channel", 1440, 15, now)["series"]["sms"]["failed"]) == 96
