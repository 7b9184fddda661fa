"""The shared provider-token cache (tasks/push/token_cache.py) against the real test Redis."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from typing import Any

import pytest
import redis

from errors import ProviderUnavailable
from tasks.push import token_cache
from tasks.push.token_cache import Token, TokenCache
from tests.conftest import free_port

KEY = "fusion:push:token:apns:fp-1"


@pytest.fixture(autouse=True)
def empty_memo():
    token_cache.reset()
    yield
    token_cache.reset()


def counting_mint(minted: list[float], life: float = 100.0):
    def mint(now: float) -> Token:
        minted.append(now)
        return Token(f"token-{len(minted)}", now, now + life)

    return mint


def test_a_second_process_reads_the_record_instead_of_minting(conn):
    minted: list[float] = []
    cache = TokenCache("apns", conn)
    first = cache.get("fp-1", counting_mint(minted))
    token_cache.reset()  # what a freshly forked work horse or another worker starts from
    second = cache.get("fp-1", counting_mint(minted))
    assert first == second and len(minted) == 1
    assert 95_000 < conn.pttl(KEY) <= 100_000  # expires when the token is due for renewal
    assert json.loads(conn.get(KEY))["value"] == "token-1"


def test_a_token_due_for_renewal_is_minted_again(conn):
    minted: list[float] = []
    cache = TokenCache("apns", conn)
    now = time.time()
    cache.get("fp-1", counting_mint(minted), now=now)
    assert cache.get("fp-1", counting_mint(minted), now=now + 99).value == "token-1"
    assert cache.get("fp-1", counting_mint(minted), now=now + 101).value == "token-2"


def _mint_in_child(url: str, barrier: Any) -> None:
    connection = redis.Redis.from_url(url)
    token_cache.reset()
    barrier.wait()

    def mint(now: float) -> Token:
        connection.incr("test:mints")
        time.sleep(0.2)  # the others arrive while this one holds the lock
        return Token("shared", now, now + 100)

    assert TokenCache("apns", connection).get("fp-1", mint).value == "shared"


def test_processes_racing_for_a_token_mint_it_once(conn, redis_server):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    children = [context.Process(target=_mint_in_child, args=(redis_server.url, barrier)) for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert int(conn.get("test:mints")) == 1


def test_a_waiter_takes_the_record_the_lock_holder_stores(conn):
    conn.set(f"{KEY}:lock", "another-process", px=5000)

    def other_process_finishes() -> None:
        time.sleep(0.3)
        now = time.time()
        conn.set(KEY, json.dumps({"value": "theirs", "issued_at": now, "refresh_at": now + 100}), px=100_000)
        conn.delete(f"{KEY}:lock")

    threading.Thread(target=other_process_finishes).start()
    minted: list[float] = []
    assert TokenCache("apns", conn).get("fp-1", counting_mint(minted)).value == "theirs"
    assert minted == []


def test_a_lock_never_released_makes_the_send_retryable(conn, monkeypatch):
    monkeypatch.setattr(token_cache, "LOCK_WAIT", 0.3)
    conn.set(f"{KEY}:lock", "stuck", px=60_000)
    with pytest.raises(ProviderUnavailable, match="another worker"):
        TokenCache("apns", conn).get("fp-1", counting_mint([]))


def test_forget_keeps_a_young_token_and_a_newer_one(conn):
    minted: list[float] = []
    cache = TokenCache("apns", conn)
    now = time.time()
    token = cache.get("fp-1", counting_mint(minted, life=3000), now=now)
    assert not cache.forget("fp-1", token.value, min_age=1200, now=now + 60)
    assert cache.forget("fp-1", "a-token-already-replaced", min_age=0)
    assert cache.get("fp-1", counting_mint(minted, life=3000), now=now + 60) == token
    assert cache.forget("fp-1", token.value, min_age=1200, now=now + 1300)
    assert conn.get(KEY) is None
    assert cache.get("fp-1", counting_mint(minted, life=3000), now=now + 1300).value == "token-2"


def test_unreachable_redis_mints_in_the_process(caplog):
    closed = redis.Redis(port=free_port(), socket_connect_timeout=0.5)  # a closed loopback port
    minted: list[float] = []
    cache = TokenCache("apns", closed)
    assert cache.get("fp-1", counting_mint(minted)).value == "token-1"
    assert cache.get("fp-1", counting_mint(minted)).value == "token-1"  # the memo
    assert len(minted) == 1
    assert "minting in this process" in caplog.text and "token-1" not in caplog.text
