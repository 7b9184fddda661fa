"""smpplib's client and ``submit_sm``, with what smpplib lacks: IPv6, TLS checked against the
account's host (with its own CA bundle), vendor TLVs, and silence on its hex PDU dumps."""

from __future__ import annotations

import logging
import socket
import ssl
from typing import Any

from smpplib import client as smpp_client
from smpplib import command

from tasks.gateways.smpp.account import BindConfig

#: smpplib's own logger: at DEBUG it writes every PDU in hex (the password, the numbers, the text).
CLIENT_LOGGER = "tasks.gateways.smpp.client"
logging.getLogger(CLIENT_LOGGER).setLevel(logging.ERROR)
logging.getLogger("smpplib").setLevel(logging.ERROR)

PDU = Any  # smpplib has no type hints


class SubmitSM(command.SubmitSM):
    """``submit_sm`` with vendor TLVs (the India DLT ids) appended: smpplib knows only the standard ones."""

    def __init__(self, tlvs: bytes = b"", **kwargs: Any) -> None:
        super().__init__("submit_sm", allow_unknown_opt_params=True, **kwargs)
        self.extra_tlvs = tlvs

    def generate_params(self) -> bytes:
        return bytes(super().generate_params()) + self.extra_tlvs


class Client(smpp_client.Client):
    """smpplib's client on an IPv4 or IPv6 socket, with TLS checked against the account's host."""

    def __init__(self, config: BindConfig, address: str, timeout: float) -> None:
        self.server_name, self.tls, self.ca_file = config.host, config.tls, config.tls_ca_file
        super().__init__(
            address, config.port, timeout=timeout, logger_name=CLIENT_LOGGER, allow_unknown_opt_params=True
        )

    def _create_socket(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in str(self.host) else socket.AF_INET
        raw = socket.socket(family, socket.SOCK_STREAM)
        raw.settimeout(self.timeout)
        if not self.tls:
            return raw
        return ssl.create_default_context(cafile=self.ca_file).wrap_socket(raw, server_hostname=self.server_name)

    @property
    def sock(self) -> socket.socket | None:
        return self._socket
