"""SMPP ``command_status`` values onto the error tree (:mod:`errors`), in one table.

Retryable: throttling (``ESME_RTHROTTLED`` 0x58) is :class:`~errors.RateLimited`; a full queue
(``ESME_RMSGQFUL`` 0x14), a system error, a failed submit and the temporary application error are
:class:`~errors.ProviderUnavailable`. An invalid destination (0x0B) is
:class:`~errors.InvalidRecipient`. A refused bind (``ESME_RBINDFAIL`` 0x0D, ``ESME_RINVPASWD``
0x0E, ``ESME_RINVSYSID`` 0x0F) and every other status are :class:`~errors.ProviderRejected`:
retrying would repeat them. Vendor statuses (0x400-0x4FF, where Indian SMSCs put DLT refusals)
are permanent unless the account lists them in ``retry_statuses``.
"""

from __future__ import annotations

from collections.abc import Iterable

from errors import FusionError, InvalidRecipient, ProviderRejected, ProviderUnavailable, RateLimited

ESME_ROK = 0x00
ESME_RINVBNDSTS = 0x04
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64

NAMES = {
    0x01: "ESME_RINVMSGLEN",
    0x02: "ESME_RINVCMDLEN",
    0x03: "ESME_RINVCMDID",
    ESME_RINVBNDSTS: "ESME_RINVBNDSTS",
    0x05: "ESME_RALYBND",
    ESME_RSYSERR: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    ESME_RINVDSTADR: "ESME_RINVDSTADR",
    ESME_RBINDFAIL: "ESME_RBINDFAIL",
    ESME_RINVPASWD: "ESME_RINVPASWD",
    ESME_RINVSYSID: "ESME_RINVSYSID",
    ESME_RMSGQFUL: "ESME_RMSGQFUL",
    0x15: "ESME_RINVSERTYP",
    ESME_RSUBMITFAIL: "ESME_RSUBMITFAIL",
    0x48: "ESME_RINVSRCTON",
    0x49: "ESME_RINVSRCNPI",
    0x50: "ESME_RINVDSTTON",
    0x51: "ESME_RINVDSTNPI",
    0x53: "ESME_RINVSYSTYP",
    ESME_RTHROTTLED: "ESME_RTHROTTLED",
    ESME_RX_T_APPN: "ESME_RX_T_APPN",
    0x65: "ESME_RX_P_APPN",
    0x66: "ESME_RX_R_APPN",
    0xFF: "ESME_RUNKNOWNERR",
}
RATE_LIMITED = frozenset({ESME_RTHROTTLED})
UNAVAILABLE = frozenset({ESME_RINVBNDSTS, ESME_RSYSERR, ESME_RMSGQFUL, ESME_RSUBMITFAIL, ESME_RX_T_APPN})
RECIPIENT = frozenset({ESME_RINVDSTADR})
#: Statuses after which the bind itself is suspect: close it, the next job binds again.
REBIND = frozenset({ESME_RINVBNDSTS})


def name_of(status: int) -> str:
    """``ESME_RTHROTTLED (0x00000058)``, or the hex value alone for a vendor status."""
    known = NAMES.get(status)
    return f"{known} (0x{status:08X})" if known else f"0x{status:08X}"


def error_for(status: int, what: str, retryable: Iterable[int] = ()) -> FusionError:
    """The classified error for a refused ``what`` (``submit_sm``, ``bind_transceiver``)."""
    reason = f"smpp: {what} refused with {name_of(status)}"
    if status in RATE_LIMITED:
        return RateLimited(reason)
    if status in UNAVAILABLE or status in set(retryable):
        return ProviderUnavailable(reason)
    if status in RECIPIENT:
        return InvalidRecipient(reason)
    return ProviderRejected(reason)
