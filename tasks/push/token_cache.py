"""Provider tokens shared by every worker process: the APNs provider JWT and the FCM OAuth
access token are minted once and reused across jobs, on every worker class.

Why Redis, and not minting in the forking parent before the fork: a token minted in a work horse
dies with it, and the parent does not know which credential a job needs until the job is loaded
(the credential may come from the payload). Minting in the parent would also put provider I/O
(an OAuth grant) in the claim loop, and would still give every worker process its own token:
Apple counts token updates per key, not per process. A record in Redis works the same for the
forking, in-process and concurrent classes and for any number of worker processes or hosts.

Three levels, per credential fingerprint:

1. a process memo: the in-process and concurrent classes touch Redis only when a token is due
   for renewal; a forked horse inherits its parent's memo (tokens are values, not sockets);
2. ``fusion:push:token:<kind>:<fingerprint>`` in Redis, a JSON record ``{"value", "issued_at",
   "refresh_at"}`` that expires at ``refresh_at`` (the job's own Redis connection);
3. minting under ``<key>:lock`` (``SET NX PX``): one process mints and stores the record, the
   others wait for it (at most :data:`LOCK_WAIT` s, then the send is retryable).

The fingerprint hashes identifiers only (team id, key id, a hash of the public key; service
account e-mail, private key id, token endpoint), never key material. The records are secrets
(bearer tokens valid for an hour): they live in the Redis that already holds the jobs' patient
data, under the same TLS and ACL, and are never logged. Without a job (a direct call) or while
Redis is unreachable, a token is minted in the process (memo only).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import redis

from errors import ProviderUnavailable
from rq_ext import contract
from wrappers.per_process import PerProcess

log = logging.getLogger(__name__)

#: Seconds a process waits for another one's mint before the send is retried later.
LOCK_WAIT = 20.0
#: Milliseconds the mint lock lives: longer than a mint (an OAuth grant times out at 15 s).
LOCK_MS = 20_000
POLL = 0.05
#: A token issued this far in the future (another host's clock) still counts as fresh.
CLOCK_SKEW = 60.0
#: Credentials remembered per process before the memo starts over (payloads may name many).
MEMO_CAP = 1024

#: Deletes the mint lock only if this process still owns it.
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
#: Deletes the record only if it still holds the refused token (another process may have renewed it).
FORGET = (
    "local raw = redis.call('GET', KEYS[1]) "
    "if raw and cjson.decode(raw)['value'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


@dataclass(frozen=True)
class Token:
    value: str
    issued_at: float
    #: After this epoch second the token is renewed (before the provider stops accepting it).
    refresh_at: float

    def fresh(self, now: float) -> bool:
        return self.issued_at - CLOCK_SKEW <= now < self.refresh_at


Mint = Callable[[float], Token]

_memo: dict[str, Token] = {}
#: One lock per token key (fresh in a forked child: the parent's may be held by another thread).
_locks: PerProcess[str, threading.Lock] = PerProcess()


def _lock_for(key: str) -> threading.Lock:
    return _locks.get(key, threading.Lock)


def reset() -> None:
    """Forget the process memo (tests)."""
    with _locks.lock:
        _memo.clear()


class TokenCache:
    """The tokens of one kind (``apns``, ``fcm``) through ``connection`` (None: this process only)."""

    def __init__(self, kind: str, connection: Any | None) -> None:
        self.kind = kind
        self.connection: Any = connection

    def key(self, fingerprint: str) -> str:
        return f"{contract.PUSH_TOKEN_PREFIX}{self.kind}:{fingerprint}"

    def get(self, fingerprint: str, mint: Mint, now: float | None = None) -> Token:
        """The fresh token for ``fingerprint``: from the memo, from Redis, or minted once."""
        key = self.key(fingerprint)
        now = time.time() if now is None else now
        with _lock_for(key):
            cached = _memo.get(key)
            if cached is not None and cached.fresh(now):
                return cached
            token = self._shared(key, mint, now)
            if len(_memo) >= MEMO_CAP:
                _memo.clear()
            _memo[key] = token
            return token

    def forget(self, fingerprint: str, value: str, min_age: float = 0.0, now: float | None = None) -> bool:
        """Drop the refused token ``value`` if it is at least ``min_age`` s old, so that the next
        :meth:`get` mints anew; a younger one is kept (True if it is gone)."""
        key = self.key(fingerprint)
        now = time.time() if now is None else now
        with _lock_for(key):
            record = self._record(key, value)
            if record is not None and now - record.issued_at < min_age:
                return False
            if key in _memo and _memo[key].value == value:
                del _memo[key]
            if self.connection is not None:
                self._tolerate(lambda: self.connection.eval(FORGET, 1, key, value), None)
            return True

    # -- Redis ---------------------------------------------------------------------------------

    def _shared(self, key: str, mint: Mint, now: float) -> Token:
        if self.connection is None:
            return mint(now)
        try:
            return self._through_redis(key, mint, now)
        except redis.RedisError as exc:
            log.warning("push %s token cache unreachable (%s): minting in this process", self.kind, type(exc).__name__)
            return mint(now)

    def _through_redis(self, key: str, mint: Mint, now: float) -> Token:
        deadline = time.monotonic() + LOCK_WAIT
        while (token := self._read(key, now)) is None:
            minted = self._mint_locked(key, mint, now)
            if minted is not None:
                return minted
            if time.monotonic() >= deadline:
                raise ProviderUnavailable(f"push: the {self.kind} token is being minted by another worker (timed out)")
            time.sleep(POLL)
        return token

    def _mint_locked(self, key: str, mint: Mint, now: float) -> Token | None:
        """Mint and store under the lock; None if another process holds it."""
        lock, owner = f"{key}:lock", uuid.uuid4().hex
        if not self.connection.set(lock, owner, nx=True, px=LOCK_MS):
            return None
        try:
            return self._read(key, now) or self._store(key, mint(now), now)
        finally:
            self._tolerate(lambda: self.connection.eval(RELEASE, 1, lock, owner), None)

    def _read(self, key: str, now: float) -> Token | None:
        token = self._load(key)
        return token if token is not None and token.fresh(now) else None

    def _load(self, key: str) -> Token | None:
        raw = self.connection.get(key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Token(str(data["value"]), float(data["issued_at"]), float(data["refresh_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    def _store(self, key: str, token: Token, now: float) -> Token:
        lifetime_ms = max(1, int((token.refresh_at - now) * 1000))
        self.connection.set(key, json.dumps(asdict(token)), px=lifetime_ms)
        return token

    def _record(self, key: str, value: str) -> Token | None:
        """The record of ``value`` (memo or Redis), to know its age."""
        cached = _memo.get(key)
        if cached is not None and cached.value == value:
            return cached
        if self.connection is None:
            return None
        token = self._tolerate(lambda: self._load(key), None)
        return token if token is not None and token.value == value else None

    def _tolerate(self, call: Callable[[], Any], default: Any) -> Any:
        try:
            return call()
        except redis.RedisError as exc:
            log.warning("push %s token cache: Redis error (%s)", self.kind, type(exc).__name__)
            return default
