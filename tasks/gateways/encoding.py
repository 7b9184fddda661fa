"""GSM-7 or UCS-2, and how many SMS segments a text takes.

One character outside the GSM 03.38 alphabet makes the whole message UCS-2. GSM-7 fits 160
characters in one segment and 153 per segment when concatenated; the extension characters
(``^ { } \\ [ ] ~ | €`` and form feed) take two. UCS-2 fits 70 UTF-16 units, 67 when concatenated
(an emoji is two units).
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[]~|€\f")
GSM7, UCS2 = "GSM-7", "UCS-2"


@dataclass(frozen=True)
class Encoding:
    """The encoding of a text and its segment count."""

    name: str
    segments: int
    length: int

    @property
    def unicode(self) -> bool:
        return self.name == UCS2


def is_gsm(text: str) -> bool:
    """True when every character is in the GSM-7 alphabet (basic or extension)."""
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def gsm_length(text: str) -> int:
    """Septets: extension characters count double."""
    return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)


def ucs2_length(text: str) -> int:
    """UTF-16 code units: characters beyond the BMP (emoji) count double."""
    return len(text.encode("utf-16-le")) // 2


def segments(length: int, single: int, multi: int) -> int:
    """Segments for ``length`` units: one if it fits ``single``, else ``ceil(length / multi)``."""
    if length <= single:
        return 1
    return -(-length // multi)


def detect(text: str, unicode: bool | None = None) -> Encoding:
    """The encoding of ``text`` (``unicode`` forces it when given) and its segments."""
    use_ucs2 = (not is_gsm(text)) if unicode is None else unicode
    if use_ucs2:
        length = ucs2_length(text)
        return Encoding(UCS2, segments(length, 70, 67), length)
    length = gsm_length(text)
    return Encoding(GSM7, segments(length, 160, 153), length)
