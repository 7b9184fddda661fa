"""An SMPP account's config, read and checked once: where to bind, as whom, and how to submit.

Config keys (``SMS_ACCOUNTS`` entry or a payload's ``config``):

=========================  ==========================================================================
``host``, ``port``         the SMSC (port 2775 when not given); a host from a payload passes the SSRF
                           guard (``WEBHOOK_ALLOWED_NETWORKS``) and the bind connects to the checked
                           address
``system_id``              bind ``system_id`` (at most 15 characters)
``password``               bind ``password`` (at most 8 characters: SMPP 3.4's limit)
``system_type``            bind ``system_type`` (default empty)
``tls``                    ``true``: SMPP over TLS, the certificate checked against ``host``
``tls_ca_file``            CA bundle (PEM path) for a private SMSC certificate (default: the system's)
``sender``                 ``source_addr`` when the payload has no ``sender`` (``source_addr`` too)
``source_ton``/``_npi``    default: 5/0 for an alphanumeric sender, 1/1 for an international number
``dest_ton``/``_npi``      default 1/1: numbers go out international, without the plus
``service_type``           ``submit_sm`` ``service_type`` (default empty)
``registered_delivery``    0 (default) or 1 to ask for delivery receipts (acknowledged, not stored)
``long_messages``          ``udh`` (default: parts with a concatenation header) or ``payload``
                           (the whole text in ``message_payload``)
``dlt_entity_id``          India DLT principal entity id, TLV ``dlt_entity_tag`` (default 0x1400)
``template_id``            default DLT content template id (the payload's wins), TLV
                           ``dlt_template_tag`` (default 0x1401)
``enquire_link_interval``  seconds between ``enquire_link`` keep-alives on an idle bind (default 30)
``retry_statuses``         vendor ``command_status`` values to treat as retryable (``[1025]``)
=========================  ==========================================================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from errors import ConfigurationError
from tasks.gateways.smpp.text import PAYLOAD, UDH

DEFAULT_PORT = 2775
#: C-Octet String limits of bind_transceiver, without the terminating NUL.
LIMITS = {"system_id": 15, "password": 8, "system_type": 12}


@dataclass(frozen=True)
class BindConfig:
    """What a bind needs: the pool keeps one bind per distinct value (per process)."""

    host: str
    port: int
    system_id: str
    password: str
    system_type: str
    tls: bool
    tls_ca_file: str | None
    enquire_link_interval: float

    @property
    def label(self) -> str:
        """Safe to log: the SMSC and the system id, never the password."""
        return f"{self.system_id}@{self.host}:{self.port}"

    @property
    def fingerprint(self) -> str:
        """Changes with any bind parameter, the password included (hashed)."""
        values = (self.host, self.port, self.system_id, self.password, self.system_type, self.tls, self.tls_ca_file)
        text = "\0".join(map(str, values))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SubmitConfig:
    """The fixed fields of every ``submit_sm`` of an account."""

    dest_ton: int
    dest_npi: int
    source_ton: int | None
    source_npi: int | None
    service_type: str
    registered_delivery: int
    long_messages: str
    dlt_entity_id: str | None
    dlt_entity_tag: int
    dlt_template_tag: int
    retry_statuses: tuple[int, ...]


def number(config: Mapping[str, Any], key: str, default: int | None) -> int | None:
    """An integer config value (``0x1400`` and ``"5120"`` too), or ``default``."""
    value = config.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"gateway 'smpp': {key} must be an integer") from None


def text(config: Mapping[str, Any], key: str) -> str:
    """A string config value within its SMPP length limit."""
    value = str(config.get(key) or "")
    if len(value) > LIMITS.get(key, 64):
        raise ConfigurationError(f"gateway 'smpp': {key} is longer than {LIMITS.get(key, 64)} characters")
    return value


def bind_config(config: Mapping[str, Any], host: str | None = None) -> BindConfig:
    """The bind of ``config`` (``host``: the address the SSRF guard pinned, when it checked one)."""
    try:
        interval = float(config.get("enquire_link_interval") or 30)
    except (TypeError, ValueError):
        interval = 0.0
    if interval <= 0:
        raise ConfigurationError("gateway 'smpp': enquire_link_interval must be a positive number of seconds")
    return BindConfig(
        host=host or str(config["host"]),
        port=number(config, "port", DEFAULT_PORT) or DEFAULT_PORT,
        system_id=text(config, "system_id"),
        password=text(config, "password"),
        system_type=text(config, "system_type"),
        tls=str(config.get("tls", "")).lower() in ("1", "true", "yes"),
        tls_ca_file=str(config["tls_ca_file"]) if config.get("tls_ca_file") else None,
        enquire_link_interval=interval,
    )


def submit_config(config: Mapping[str, Any]) -> SubmitConfig:
    """The submit fields of ``config``."""
    long_messages = str(config.get("long_messages") or UDH).lower()
    if long_messages not in (UDH, PAYLOAD):
        raise ConfigurationError("gateway 'smpp': long_messages must be 'udh' or 'payload'")
    retry = config.get("retry_statuses") or []
    if not isinstance(retry, list):
        raise ConfigurationError("gateway 'smpp': retry_statuses must be a list of integers")
    return SubmitConfig(
        dest_ton=number(config, "dest_ton", 1) or 0,
        dest_npi=number(config, "dest_npi", 1) or 0,
        source_ton=number(config, "source_ton", None),
        source_npi=number(config, "source_npi", None),
        service_type=str(config.get("service_type") or "")[:5],
        registered_delivery=number(config, "registered_delivery", 0) or 0,
        long_messages=long_messages,
        dlt_entity_id=str(config["dlt_entity_id"]) if config.get("dlt_entity_id") else None,
        dlt_entity_tag=number(config, "dlt_entity_tag", 0x1400) or 0x1400,
        dlt_template_tag=number(config, "dlt_template_tag", 0x1401) or 0x1401,
        retry_statuses=tuple(number({"s": s}, "s", 0) or 0 for s in retry),
    )


def source_of(sender: str, submit: SubmitConfig) -> tuple[str, int, int]:
    """``source_addr`` and its TON/NPI: alphanumeric 5/0, a number 1/1 (plus dropped), else 0/1."""
    address = sender[1:] if sender.startswith("+") else sender
    if not address.isdigit():
        ton, npi = 5, 0
    elif sender.startswith("+") or len(address) >= 10:
        ton, npi = 1, 1
    else:
        ton, npi = 0, 1
    chosen_ton = ton if submit.source_ton is None else submit.source_ton
    return address, chosen_ton, npi if submit.source_npi is None else submit.source_npi
