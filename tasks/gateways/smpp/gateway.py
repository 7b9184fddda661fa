"""The ``smpp`` gateway: ``submit_sm`` over a shared transceiver bind (smpplib).

One ``submit_sm`` per number (``delivery.py`` records each accepted number in the ledger), one
per part of a long message. The message id returned is the ``message_id`` of the
``submit_sm_resp``; for a message sent in several parts, the parts' ids in order joined by ``;``
(``id1;id2;id3``), since each part gets its own id and its own delivery receipt.

A part after the first that is throttled or hits a broken bind is submitted again in place, up to
:data:`PART_TRIES` times, with the same concatenation reference: retrying the job instead would
send the parts already accepted a second time. Config keys: :mod:`.account`.
"""

from __future__ import annotations

import logging
import random
import struct
import time
from typing import Any

from config import get_settings
from errors import ConfigurationError, RetryableError
from tasks.gateways import engine
from tasks.gateways.smpp import pool, text
from tasks.gateways.smpp.account import BindConfig, SubmitConfig, bind_config, source_of, submit_config
from tasks.gateways.smpp.bind import Bind
from tasks.gateways.spec import PLAIN, Gateway, Outbound
from wrappers.echoes import guarding
from wrappers.ssrf import check_host

log = logging.getLogger(__name__)

#: Tries of one part after the first (the first part's failure fails the job: nothing was delivered).
PART_TRIES = 3
PART_BACKOFF = 0.5


def address_of(bind: BindConfig, guard: bool) -> str:
    """Where to connect: a host from job data is checked by the SSRF guard and pinned."""
    return check_host(bind.host, bind.port) if guard else bind.host


def dlt_tlvs(submit: SubmitConfig, template_id: str | None) -> bytes:
    """The India DLT TLVs: principal entity id and content template id, as octets without a NUL."""
    found = b""
    for tag, value in ((submit.dlt_entity_tag, submit.dlt_entity_id), (submit.dlt_template_tag, template_id)):
        if not value:
            continue
        try:
            octets = str(value).encode("ascii")
        except UnicodeEncodeError:
            raise ConfigurationError("gateway 'smpp': DLT ids must be ASCII") from None
        found += struct.pack(">HH", tag, len(octets)) + octets
    return found


def fields_of(out: Outbound, submit: SubmitConfig, encoded: text.Encoded) -> dict[str, Any]:
    """The mandatory ``submit_sm`` fields shared by every part."""
    source, source_ton, source_npi = source_of(out.sender or "", submit)
    return {
        "service_type": submit.service_type or None,
        "source_addr_ton": source_ton,
        "source_addr_npi": source_npi,
        "source_addr": source,
        "dest_addr_ton": submit.dest_ton,
        "dest_addr_npi": submit.dest_npi,
        "destination_addr": out.numbers[0],
        "esm_class": encoded.esm_class,
        "registered_delivery": submit.registered_delivery,
        "data_coding": encoded.data_coding,
    }


def submit_part(bind: Bind, fields: dict[str, Any], tlvs: bytes, submit: SubmitConfig, later: bool) -> str:
    """One part's message id; a later part is tried again in place on a retryable failure."""
    for attempt in range(1, PART_TRIES if later else 1):
        try:
            return bind.submit(fields, tlvs, submit.retry_statuses)
        except RetryableError as exc:
            log.warning("smpp part submit failed (%s); trying it again", exc)
            time.sleep(PART_BACKOFF * attempt)
    return bind.submit(fields, tlvs, submit.retry_statuses)


def submit_all(bind: Bind, fields: dict[str, Any], encoded: text.Encoded, tlvs: bytes, submit: SubmitConfig) -> str:
    """Every part (or the one ``message_payload``) submitted; their ids joined by ``;``."""
    if encoded.payload is not None:
        return submit_part(bind, {**fields, "message_payload": encoded.payload}, tlvs, submit, later=False)
    ids: list[str] = []
    for index, part in enumerate(encoded.parts):
        try:
            ids.append(submit_part(bind, {**fields, "short_message": part}, tlvs, submit, later=index > 0))
        except RetryableError as exc:
            if not ids:
                raise
            total = len(encoded.parts)
            note = f"; parts 1-{index} of {total} were accepted, a retry sends the whole message again"
            raise type(exc)(f"{exc}{note}", retry_after=exc.retry_after) from None
    return ";".join(ids)


def send(gateway: Gateway, out: Outbound) -> str:
    """Submit ``out`` (one number) over this process's bind for the account; the message id(s)."""
    config = out.config
    submit, bind_of = submit_config(config), bind_config(config)
    bind = pool.bind_for(bind_of, address_of(bind_of, out.guard_url), get_settings().PROVIDER_TIMEOUT)
    encoded = text.encode(out.text, out.unicode, submit.long_messages, reference=random.randrange(256))
    tlvs = dlt_tlvs(submit, out.template_id)
    with guarding(engine.secrets(out)):
        return submit_all(bind, fields_of(out, submit, encoded), encoded, tlvs, submit)


GATEWAY = Gateway(
    name="smpp",
    title="SMPP 3.4 SMSC (transceiver bind, smpplib)",
    region="any",
    url="smpp://{host}:{port}",
    required=("host", "system_id", "password"),
    sender="source_addr",
    to="destination_addr",
    message="short_message",
    number_format=PLAIN,
    joiner=None,
    dlt_entity="TLV 0x1400",
    dlt_template="TLV 0x1401",
    unicode=("data_coding", "0", "8"),
    transport=send,
    confidence="H (SMPP 3.4 submit_sm) / M (India DLT TLVs 0x1400, 0x1401)",
    source="SMPP 3.4 specification; python-smpplib; DLT TLVs: python-smpplib#204, Spoke#1792, ksmppd#135",
)
