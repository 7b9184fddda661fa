"""Masking: phone numbers, e-mail addresses, tokens and URL secrets never reach a log unmasked."""

from __future__ import annotations

import logging

import pytest

from wrappers.logger import MaskingFilter
from wrappers.masking import mask_text, mask_value


@pytest.mark.parametrize(
    "raw, hidden, kept",
    [
        ("to +919876543210 now", "9876543210", "3210"),
        ("number 9876543210.", "98765432", "3210"),
        ("+44 7700 900123", "7700 900", "0123"),
        ("mail asha.k@lab.example", "asha.k", "@lab.example"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop", "Authorization"),
        ("https://user:s3cretpw@api.example.com/x", "s3cretpw", "api.example.com"),
        ("https://api.example.com/send?authkey=K123456&mobile=1", "K123456", "mobile"),
        ("GET /x?apikey=zzz&token=yyy", "zzz", "GET /x"),
    ],
)
def test_mask_text(raw, hidden, kept):
    masked = mask_text(raw)
    assert hidden not in masked and kept in masked


def test_ids_and_timestamps_are_not_mangled():
    text = "job 1f267690-5646-4468-842d-eff436684f3f at 2026-11-29 19:11:33,812 score 1764442221.5"
    assert mask_text(text) == text


def test_mask_value_hides_sensitive_keys():
    masked = mask_value(
        {
            "task": 1,
            "to": ["+919876543210"],
            "message": "Your HbA1c is 9.1",
            "config": {"authkey": "k"},
            "gateway": "msg91",
        }
    )
    assert masked == {"task": 1, "to": "***", "message": "***", "config": "***", "gateway": "msg91"}


def test_filter_masks_arguments_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sending to %s", ("+919876543210",), None)
    try:
        raise ValueError("bad number +919876543210")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    MaskingFilter().filter(record)
    assert "9876543210" not in record.getMessage()
    assert "9876543210" not in (record.exc_text or "")


def test_number_in_query_string_is_masked():
    assert mask_text("GET /send?numbers=919876543210&x=1") == "GET /send?numbers=********3210&x=1"
