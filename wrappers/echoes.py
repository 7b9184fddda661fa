"""Scrubbing what a provider echoes back of what we sent, in whatever form it echoes it.

A gateway that refuses a message often answers with the request itself: ``message=patient+Ravi+
report+HbA1c+9.1``, ``"text":"\\u0930\\u0935\\u093f"``, ``&lt;b&gt;``, upper-cased, or a piece
of it. :class:`Secrets` knows the values of one send (the message text, the numbers, the
credentials) and removes from any text:

- each value in every form it may come back in: as sent, URL-encoded (``+`` and ``%20``),
  percent-encoded UTF-8, JSON-escaped (``\\uXXXX``), HTML-escaped (named and numeric entities),
  in any letter case;
- for message texts, also any run of :data:`MIN_RUN` or more characters of any of those forms.

:func:`guarding` makes a :class:`Secrets` apply to every :func:`wrappers.masking.mask_text` of
the block (log records, Sentry events, Elasticsearch documents made while the job sends).
"""

from __future__ import annotations

import contextvars
import html
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import accumulate
from urllib.parse import quote, quote_plus

MASK = "***"
#: The shortest piece of a message text that is removed wherever it shows up.
MIN_RUN = 8
#: Shorter values are not scrubbed one by one (they would hide ordinary words).
MIN_VALUE = 4


#: Characters no form changes: a value made of them only comes back as itself.
_UNCHANGED = re.compile(r"[A-Za-z0-9_.~-]*")


@lru_cache(maxsize=256)
def forms(value: str) -> frozenset[str]:
    """``value`` as sent and as a provider may echo it (case is handled by the matching)."""
    if _UNCHANGED.fullmatch(value):
        return frozenset((value,)) if value else frozenset()
    ascii_json = json.dumps(value)[1:-1]
    found = {
        value,
        quote_plus(value),
        quote(value, safe=""),
        quote(value, safe="/:@"),
        ascii_json,
        ascii_json.replace("/", "\\/"),
        html.escape(value),
        html.escape(value, quote=False),
    }
    if not value.isascii() or "\x7f" in value:  # else these equal ``value`` or ``ascii_json``
        found.add(json.dumps(value, ensure_ascii=False)[1:-1])
        found.add(value.encode("ascii", "xmlcharrefreplace").decode("ascii"))
        found.add("".join(c if ord(c) < 128 else f"&#x{ord(c):x};" for c in value))
    return frozenset(f for f in found if f)


def folded(text: str) -> str:
    """``text`` lower-cased character by character (same length, so positions still match)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@lru_cache(maxsize=64)
def runs_of(text: str) -> frozenset[str]:
    """Every :data:`MIN_RUN`-character piece of every form of ``text`` with at least half its
    characters letters or digits (a run of spaces or punctuation says nothing)."""
    pieces: set[str] = set()
    half = MIN_RUN // 2
    for low in {folded(form) for form in forms(text)}:
        alnum = list(accumulate(map(str.isalnum, low), initial=0))
        starts = range(len(low) - MIN_RUN + 1)
        if alnum[-1] == len(low):  # letters and digits only: every piece counts
            pieces.update([low[i : i + MIN_RUN] for i in starts])
        else:
            pieces.update([low[i : i + MIN_RUN] for i in starts if alnum[i + MIN_RUN] - alnum[i] >= half])
    return frozenset(pieces)


class Secrets:
    """The values of one send, to be removed from anything a provider says back.

    The forms and runs are worked out on the first :meth:`scrub` (a send that logs nothing and
    fails with no answer pays nothing); matching is plain substring search on lower-cased text."""

    def __init__(self, values: Iterable[str] = (), texts: Iterable[str] = ()) -> None:
        self.texts = tuple(t for t in texts if isinstance(t, str) and t)
        self.values = tuple(v for v in values if isinstance(v, str) and len(v) >= MIN_VALUE)
        self._exact: tuple[str, ...] | None = None
        self._runs: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.values) or bool(self.texts)

    def _prepare(self) -> tuple[str, ...]:
        if self._exact is None:
            known = {folded(f) for v in (*self.values, *self.texts) if len(v) >= MIN_VALUE for f in forms(v)}
            self._runs = (
                runs_of(self.texts[0]) if len(self.texts) == 1 else frozenset().union(*map(runs_of, self.texts))
            )
            self._exact = tuple(sorted(known, key=len, reverse=True))
        return self._exact

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` holds a form of a value or a run of a text (merged, in order)."""
        exact, low = self._prepare(), folded(text)
        found: list[tuple[int, int]] = []
        for form in exact:
            at = low.find(form)
            while at >= 0:
                found.append((at, at + len(form)))
                at = low.find(form, at + len(form))
        runs = self._runs
        found += [(i, i + MIN_RUN) for i in range(len(low) - MIN_RUN + 1) if low[i : i + MIN_RUN] in runs]
        return merged(found)

    def scrub(self, text: str) -> str:
        """``text`` without any form of the values, nor any run of a message text."""
        if not self or len(text) < MIN_VALUE:
            return text
        for start, end in reversed(self.spans(text)):
            text = text[:start] + MASK + text[end:]
        return text


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans joined, in order."""
    joined: list[list[int]] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [(start, end) for start, end in joined]


_guarded: contextvars.ContextVar[tuple[Secrets, ...]] = contextvars.ContextVar("fusion_secrets", default=())


def current() -> tuple[Secrets, ...]:
    """The secrets every masking applies to now (those of the job sending in this context)."""
    return _guarded.get()


@contextmanager
def guarding(secrets: Secrets) -> Iterator[Secrets]:
    """Within the block, every :func:`wrappers.masking.mask_text` also scrubs ``secrets``."""
    token = _guarded.set((*current(), secrets) if secrets else current())
    try:
        yield secrets
    finally:
        _guarded.reset(token)


def scrub_current(text: str) -> str:
    for secrets in current():
        text = secrets.scrub(text)
    return text
