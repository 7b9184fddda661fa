"""One transceiver bind to an SMSC, shared by every thread of a process (:mod:`.pool`).

smpplib's client is not safe for concurrent use, so one lock serialises each exchange: a
``submit_sm`` and the reading of its ``submit_sm_resp`` (matched by sequence number) happen under
it, one message in flight per bind. PDUs the SMSC sends meanwhile are answered on the way:
``deliver_sm`` (delivery receipts: acknowledged, not stored), ``enquire_link``, and ``unbind``
(the bind is closed). A keeper thread answers them on an idle bind too and sends ``enquire_link``
after ``enquire_link_interval`` seconds of silence.

A broken bind (connection reset, EOF, a read timeout, an unparseable PDU) is closed; the next
exchange connects and binds again. A job whose ``submit_sm`` went out but whose
``submit_sm_resp`` was never read fails retryably with a reason that says the SMSC may have
accepted it (a retry may send it twice); one that failed before sending says nothing was sent.
"""

from __future__ import annotations

import logging
import select
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from smpplib import exceptions, smpp

from errors import DeliveryTimeout, FusionError, ProviderRejected, ProviderUnavailable
from tasks.gateways.smpp import status
from tasks.gateways.smpp.account import BindConfig
from tasks.gateways.smpp.client import PDU, Client, SubmitSM

log = logging.getLogger(__name__)
BROKEN = (exceptions.ConnectionError, exceptions.PDUError, exceptions.UnknownCommandError, OSError, ValueError)


class Bind:
    """A lazily opened transceiver bind; ``submit`` is safe from any thread of the process."""

    def __init__(self, config: BindConfig, address: str, timeout: float) -> None:
        self.config, self.address, self.timeout = config, address, timeout
        self.lock = threading.Lock()
        self.client: Client | None = None
        self.last_io = time.monotonic()
        self.stopped = threading.Event()
        self.keeper: threading.Thread | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The bind's lock, or :class:`DeliveryTimeout` when other jobs keep it too long (nothing sent)."""
        if not self.lock.acquire(timeout=self.timeout * 4):
            raise DeliveryTimeout(f"smpp: bind {self.config.label} busy for {self.timeout * 4:.0f} s; nothing sent")
        try:
            yield
        finally:
            self.lock.release()

    def submit(self, pdu_fields: dict[str, Any], tlvs: bytes, retryable: tuple[int, ...]) -> str:
        """Send one ``submit_sm`` and return the message id of its ``submit_sm_resp``."""
        with self.held():
            client = self.ensure()
            pdu = SubmitSM(tlvs=tlvs, client=client, **pdu_fields)
            resp = self.exchange(pdu, "submit_sm_resp", sent_message=True)
            if resp.status != status.ESME_ROK:
                if resp.status in status.REBIND:
                    self.drop()
                raise status.error_for(int(resp.status), "submit_sm", retryable)
            message_id = resp.message_id or b""
            return message_id.decode("ascii", "replace") if isinstance(message_id, bytes) else str(message_id)

    def ensure(self) -> Client:
        """The bound client: pending PDUs answered first; a bind found broken is opened again."""
        if self.client is not None:
            try:
                self.drain()
            except FusionError:
                log.info("smpp bind %s was lost; binding again", self.config.label)
        return self.client if self.client is not None else self.open()

    def open(self) -> Client:
        """Connect and ``bind_transceiver``; refusals are classified by ``command_status``."""
        client = Client(self.config, self.address, self.timeout)
        try:
            client.connect()
            client.bind_transceiver(
                system_id=self.config.system_id,
                password=self.config.password,
                system_type=self.config.system_type,
                interface_version=0x34,
            )
        except exceptions.PDUError as exc:
            client.disconnect()
            code = exc.args[1] if len(exc.args) > 1 else status.ESME_RBINDFAIL
            raise status.error_for(int(code), f"bind_transceiver as {self.config.label}") from None
        except BROKEN as exc:
            client.disconnect()
            cause = exc.__context__ if isinstance(exc, exceptions.ConnectionError) else exc
            if isinstance(cause, ssl.SSLCertVerificationError):  # retrying cannot fix it
                reason = cause.verify_message
                raise ProviderRejected(f"smpp: TLS certificate of {self.config.label} refused ({reason})") from None
            raise ProviderUnavailable(f"smpp: cannot bind to {self.config.label}; nothing sent") from None
        self.client, self.last_io = client, time.monotonic()
        log.info("smpp bound as transceiver to %s", self.config.label)
        self.start_keeper()
        return client

    def exchange(self, pdu: PDU, expect: str, sent_message: bool = False) -> PDU:
        """Send ``pdu`` and read until its response (``generic_nack`` too), answering what comes between."""
        self.send(pdu)
        deadline = time.monotonic() + self.timeout
        while True:
            resp = self.read(sent_message)
            if resp.sequence == pdu.sequence and resp.command in (expect, "generic_nack"):
                return resp
            self.answer(resp)
            if time.monotonic() > deadline:
                self.drop()
                raise DeliveryTimeout(f"smpp: no {expect} from {self.config.label}{self.risk(sent_message)}")

    def send(self, pdu: PDU) -> None:
        """Write ``pdu``; a failed write closes the bind (an incomplete PDU is no message)."""
        client = self.client
        try:
            assert client is not None
            client.send_pdu(pdu)
        except BROKEN:
            self.drop()
            raise ProviderUnavailable(f"smpp: bind {self.config.label} broken while sending; nothing sent") from None
        self.last_io = time.monotonic()

    def read(self, sent_message: bool = False) -> PDU:
        """The next PDU; a timeout or a broken connection closes the bind."""
        client = self.client
        try:
            assert client is not None
            pdu = client.read_pdu()
        except TimeoutError:
            self.drop()
            raise DeliveryTimeout(
                f"smpp: {self.config.label} did not answer in time{self.risk(sent_message)}"
            ) from None
        except BROKEN:
            self.drop()
            raise ProviderUnavailable(f"smpp: bind {self.config.label} broken{self.risk(sent_message)}") from None
        self.last_io = time.monotonic()
        return pdu

    def risk(self, sent_message: bool) -> str:
        return "; submit_sm was sent, the SMSC may have accepted it" if sent_message else ""

    def answer(self, pdu: PDU) -> None:
        """Answer a PDU the SMSC sent on its own: receipts, keep-alives, its unbind."""
        replies = {"deliver_sm": "deliver_sm_resp", "enquire_link": "enquire_link_resp", "unbind": "unbind_resp"}
        reply = replies.get(pdu.command)
        if reply is not None:
            resp = smpp.make_pdu(reply, client=self.client)
            resp.sequence = pdu.sequence
            self.send(resp)
        if pdu.command == "unbind":
            self.drop()
            raise ProviderUnavailable(f"smpp: {self.config.label} unbound the session")
        log.debug("smpp %s from %s answered", pdu.command, self.config.label)

    def drain(self) -> None:
        """Answer every PDU already waiting on the socket (an EOF there means the bind is gone)."""
        while self.client is not None and self.client.sock is not None:
            readable, _, _ = select.select([self.client.sock], [], [], 0)
            if not readable:
                return
            self.answer(self.read())

    def keep_alive(self) -> None:
        """On an idle bind: answer waiting PDUs and send ``enquire_link`` when the interval has passed."""
        if not self.lock.acquire(blocking=False):
            return  # a job is using the bind: it is not idle
        try:
            if self.client is None:
                return
            self.drain()
            if self.client is not None and time.monotonic() - self.last_io >= self.config.enquire_link_interval:
                self.exchange(smpp.make_pdu("enquire_link", client=self.client), "enquire_link_resp")
        except Exception as exc:  # the keeper thread must outlive any failure of one round
            self.drop()
            log.warning("smpp keep-alive of %s failed (%s); the next job binds again", self.config.label, exc)
        finally:
            self.lock.release()

    def start_keeper(self) -> None:
        if self.keeper is not None and self.keeper.is_alive():
            return
        tick = min(1.0, self.config.enquire_link_interval / 3)
        self.keeper = threading.Thread(target=self.keep, args=(tick,), name="smpp-keeper", daemon=True)
        self.keeper.start()

    def keep(self, tick: float) -> None:
        while not self.stopped.wait(tick):
            self.keep_alive()

    def drop(self) -> None:
        """Close the connection without an unbind (it is broken, or not ours)."""
        client, self.client = self.client, None
        if client is not None:
            client.disconnect()

    def close(self, wait: float = 2.0) -> None:
        """Stop the keeper and unbind politely, waiting at most about ``wait`` seconds (at exit)."""
        self.stopped.set()
        if not self.lock.acquire(timeout=wait):
            return  # a job still holds the bind; the process is ending anyway
        try:
            if self.client is not None and self.client.sock is not None:
                self.timeout = min(self.timeout, wait)
                self.client.sock.settimeout(self.timeout)
                try:
                    self.exchange(smpp.make_pdu("unbind", client=self.client), "unbind_resp")
                except FusionError:
                    pass
            self.drop()
        finally:
            self.lock.release()
