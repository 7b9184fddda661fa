"""A text as SMPP ``short_message`` octets: GSM-7 or UCS-2, split into concatenated parts.

- GSM-7 (``data_coding`` 0, the SMSC default alphabet) is sent unpacked, one septet per octet,
  as SMPP carries it; an extension character (``^ { } \\ [ ] ~ | €``, form feed) is the escape
  0x1B plus its code. 160 septets fit one message, 153 one part of a long one; a part never ends
  between an escape and its character.
- UCS-2 (``data_coding`` 8) is UTF-16 big-endian: 70 units in one message, 67 per part; a part
  never ends between the two halves of a surrogate pair (an emoji), so every part has an even
  number of octets.
- A long message is split with a user data header (``esm_class`` 0x40, UDH ``05 00 03 ref total
  seq``, an 8-bit reference), or sent whole in the ``message_payload`` TLV (config
  ``long_messages: "payload"``), which the SMSC splits itself.
"""

from __future__ import annotations

from dataclasses import dataclass

#: GSM 03.38 basic table, in code order (0x1B, the escape, stands at its place).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: character -> code after the escape.
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
GSM_EXTENSION |= {"|": 0x40, "€": 0x65}
_GSM_CODES = {char: code for code, char in enumerate(GSM_BASIC) if char != "\x1b"}

#: data_coding values and the esm_class bit of a user data header.
GSM7_CODING, UCS2_CODING = 0x00, 0x08
UDHI = 0x40
#: (whole message, one part) sizes in octets.
GSM7_SIZES, UCS2_SIZES = (160, 153), (140, 134)
UDH, PAYLOAD = "udh", "payload"


@dataclass(frozen=True)
class Encoded:
    """The octets to submit: one ``short_message`` per part, or one ``message_payload``."""

    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]
    payload: bytes | None = None


def gsm_units(text: str) -> list[bytes] | None:
    """Each character as its GSM-7 octets (one, or the escape and one), or None when one is not GSM."""
    units: list[bytes] = []
    for char in text:
        if char in _GSM_CODES:
            units.append(bytes((_GSM_CODES[char],)))
        elif char in GSM_EXTENSION:
            units.append(bytes((0x1B, GSM_EXTENSION[char])))
        else:
            return None
    return units


def ucs2_units(text: str) -> list[bytes]:
    """Each character as its UTF-16-BE octets (two, or four for a surrogate pair)."""
    return [char.encode("utf-16-be") for char in text]


def chunks(units: list[bytes], size: int) -> list[bytes]:
    """Whole units packed into chunks of at most ``size`` octets."""
    found: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > size:
            found.append(current)
            current = b""
        current += unit
    return [*found, current] if current or not found else found


def with_headers(pieces: list[bytes], reference: int) -> tuple[bytes, ...]:
    """Each piece behind its concatenation header (8-bit reference, total, 1-based sequence)."""
    if len(pieces) > 255:
        raise ValueError("a message of more than 255 parts cannot be concatenated")
    total = len(pieces)
    return tuple(bytes((5, 0, 3, reference & 0xFF, total, seq)) + piece for seq, piece in enumerate(pieces, 1))


def encode(text: str, unicode: bool, long_messages: str = UDH, reference: int = 0) -> Encoded:
    """The submit octets of ``text``: UCS-2 when ``unicode`` or when a character is not GSM-7."""
    gsm = None if unicode else gsm_units(text)
    units, coding, (whole, part) = (
        (gsm, GSM7_CODING, GSM7_SIZES) if gsm is not None else (ucs2_units(text), UCS2_CODING, UCS2_SIZES)
    )
    octets = b"".join(units)
    if len(octets) <= whole:
        return Encoded(coding, 0, (octets,))
    if long_messages == PAYLOAD:
        return Encoded(coding, 0, (), payload=octets)
    return Encoded(coding, UDHI, with_headers(chunks(units, part), reference))
