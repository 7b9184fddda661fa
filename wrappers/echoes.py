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
from urllib.parse import quote, quote_plus

MASK = "***"
#: The shortest piece of a message text that is removed wherever it shows up.
MIN_RUN = 8
#: Shorter values are not scrubbed one by one (they would hide ordinary words).
MIN_VALUE = 4


def forms(value: str) -> set[str]:
    """``value`` as sent and as a provider may echo it (case is handled by the matching)."""
    ascii_json = json.dumps(value)[1:-1]
    found = {
        value,
        quote_plus(value),
        quote(value, safe=""),
        quote(value, safe="/:@"),
        ascii_json,
        ascii_json.replace("/", "\\/"),
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        value.encode("ascii", "xmlcharrefreplace").decode("ascii"),
        "".join(c if ord(c) < 128 else f"&#x{ord(c):x};" for c in value),
    }
    return {f for f in found if f}


def folded(text: str) -> str:
    """``text`` lower-cased character by character (same length, so positions still match)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def runs_of(text: str) -> set[str]:
    """Every :data:`MIN_RUN`-character piece of every form of ``text`` that is not trivial."""
    pieces: set[str] = set()
    for form in forms(text):
        low = folded(form)
        pieces.update(low[i : i + MIN_RUN] for i in range(len(low) - MIN_RUN + 1))
    return {p for p in pieces if sum(c.isalnum() for c in p) >= MIN_RUN // 2}


class Secrets:
    """The values of one send, to be removed from anything a provider says back."""

    def __init__(self, values: Iterable[str] = (), texts: Iterable[str] = ()) -> None:
        self.texts = tuple(t for t in texts if isinstance(t, str) and t)
        self.values = tuple(v for v in values if isinstance(v, str) and len(v) >= MIN_VALUE)
        exact = {f for v in (*self.values, *self.texts) if len(v) >= MIN_VALUE for f in forms(v)}
        alternatives = "|".join(re.escape(f) for f in sorted(exact, key=len, reverse=True))
        self.pattern = re.compile(alternatives, re.IGNORECASE) if exact else None
        self.runs = frozenset(p for t in self.texts for p in runs_of(t))

    def __bool__(self) -> bool:
        return self.pattern is not None or bool(self.runs)

    def scrub(self, text: str) -> str:
        """``text`` without any form of the values, nor any run of a message text."""
        if self.pattern is not None:
            text = self.pattern.sub(MASK, text)
        return self._without_runs(text) if self.runs and len(text) >= MIN_RUN else text

    def _without_runs(self, text: str) -> str:
        low, spans = folded(text), list[list[int]]()
        for i in range(len(low) - MIN_RUN + 1):
            if low[i : i + MIN_RUN] in self.runs:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + MIN_RUN
                else:
                    spans.append([i, i + MIN_RUN])
        for start, end in reversed(spans):
            text = text[:start] + MASK + text[end:]
        return text


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
