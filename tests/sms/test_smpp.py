"""The smpp gateway against a real SMSC (tests/smsc/server.js on the npm ``smpp`` package): the
bind, what each submit_sm carries (data coding, UDH, TLVs, exact octets), and the classification
of every refusal. The bind's life (restarts, keep-alive, threads, fork) is in test_smpp_bind.py."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

import errors
from tasks.sms import send_sms
from tests.channels.certs import make_ca
from tests.sms.harness import HINDI, NUMBER, TEXT
from tests.sms.smsc import Smsc, node_ready
from wrappers.logger import MaskingFilter

DEST = NUMBER.lstrip("+")
ENTITY, TEMPLATE = "1201159100000000001", "1207161234567890123"


def sms(simulator: Smsc, message: str = TEXT, to: str = NUMBER, config: dict | None = None, **payload: object) -> dict:
    body = {"task": 1, "gateway": "smpp", "config": config or simulator.config(), "to": to, "message": message}
    return send_sms({"payload": {**body, **payload}})


def parts(simulator: Smsc) -> list[bytes]:
    return [bytes.fromhex(p["short_message"]) for p in simulator.pdus("submit_sm")]


def test_binds_as_transceiver_with_the_account_and_returns_the_message_id(smsc: Smsc, settings) -> None:
    result = sms(smsc)
    (bind,) = smsc.pdus("bind_transceiver")
    assert (bind["system_id"], bind["password"], bind["system_type"], bind["interface_version"]) == (
        "clinic",
        "secret",
        "",
        0x34,
    )
    (submit,) = smsc.pdus("submit_sm")
    assert result["provider_message_id"] == submit["message_id"] and result["gateway"] == "smpp"
    assert (submit["destination_addr"], submit["dest_addr_ton"], submit["dest_addr_npi"]) == (DEST, 1, 1)
    assert (submit["source_addr"], submit["source_addr_ton"], submit["source_addr_npi"]) == ("LABXYZ", 5, 0)
    assert (submit["data_coding"], submit["esm_class"], submit["registered_delivery"]) == (0, 0, 0)
    assert bytes.fromhex(submit["short_message"]) == TEXT.encode("ascii") and submit["text"] == TEXT


def test_gsm7_extension_characters_are_escaped(smsc: Smsc, settings) -> None:
    sms(smsc, "Fee {INR} 10€ [paid] ~ok|^")
    (submit,) = smsc.pdus("submit_sm")
    assert submit["data_coding"] == 0 and submit["text"] == "Fee {INR} 10€ [paid] ~ok|^"
    assert parts(smsc)[0][:6] == b"Fee \x1b\x28"
    assert b"\x1b\x65" in parts(smsc)[0]


def test_hindi_goes_as_ucs2(smsc: Smsc, settings) -> None:
    result = sms(smsc, HINDI)
    (submit,) = smsc.pdus("submit_sm")
    assert submit["data_coding"] == 8 and parts(smsc) == [HINDI.encode("utf-16-be")]
    assert submit["text"] == HINDI and result["encoding"] == "UCS-2"


def test_numeric_sender_is_international(smsc: Smsc, settings) -> None:
    sms(smsc, sender="+14155552671")
    (submit,) = smsc.pdus("submit_sm")
    assert (submit["source_addr"], submit["source_addr_ton"], submit["source_addr_npi"]) == ("14155552671", 1, 1)


def test_long_gsm7_message_is_split_with_a_udh(smsc: Smsc, settings) -> None:
    text = "Dear patient, your lab report LAB-42 is ready. " * 4  # 188 septets: 2 parts
    result = sms(smsc, text)
    submits, octets = smsc.pdus("submit_sm"), parts(smsc)
    assert [s["esm_class"] for s in submits] == [0x40, 0x40]
    headers = [p[:6] for p in octets]
    reference = headers[0][3]
    assert headers == [bytes((5, 0, 3, reference, 2, 1)), bytes((5, 0, 3, reference, 2, 2))]
    assert len(octets[0]) == 6 + 153 and b"".join(p[6:] for p in octets) == text.encode("ascii")
    assert result["provider_message_id"] == ";".join(s["message_id"] for s in submits)
    assert result["segments"] == 2


def test_long_ucs2_parts_never_split_a_character(smsc: Smsc, settings) -> None:
    text = "रिपोर्ट 😀 " * 20
    sms(smsc, text)
    bodies = [p[6:] for p in parts(smsc)]
    assert len(bodies) > 1 and all(len(body) % 2 == 0 and len(body) <= 134 for body in bodies)
    assert "".join(body.decode("utf-16-be") for body in bodies) == text


def test_long_message_in_message_payload(smsc: Smsc, settings) -> None:
    text = "Your lab report LAB-42 is ready; please collect it from the front desk. " * 3
    result = sms(smsc, text, config=smsc.config(long_messages="payload"))
    (submit,) = smsc.pdus("submit_sm")
    assert submit["short_message"] == "" and submit["esm_class"] == 0
    assert bytes.fromhex(submit["tlvs"]["0x0424"]) == text.encode("ascii")
    assert result["provider_message_id"] == submit["message_id"]


def test_india_dlt_ids_go_in_tlvs_0x1400_and_0x1401(smsc: Smsc, settings) -> None:
    sms(smsc, config=smsc.config(dlt_entity_id=ENTITY), template_id=TEMPLATE)
    (submit,) = smsc.pdus("submit_sm")
    assert submit["tlvs"] == {"0x1400": ENTITY.encode().hex(), "0x1401": TEMPLATE.encode().hex()}


def test_dlt_tags_can_be_changed_per_account(smsc: Smsc, settings) -> None:
    config = smsc.config(dlt_entity_id=ENTITY, template_id=TEMPLATE, dlt_entity_tag="0x1500", dlt_template_tag=5377)
    sms(smsc, config=config)
    (submit,) = smsc.pdus("submit_sm")
    assert submit["tlvs"] == {"0x1500": ENTITY.encode().hex(), "0x1501": TEMPLATE.encode().hex()}


@pytest.mark.parametrize(
    ("status", "error", "name"),
    [
        (0x58, errors.RateLimited, "ESME_RTHROTTLED"),
        (0x14, errors.ProviderUnavailable, "ESME_RMSGQFUL"),
        (0x08, errors.ProviderUnavailable, "ESME_RSYSERR"),
        (0x0B, errors.InvalidRecipient, "ESME_RINVDSTADR"),
        (0x0A, errors.ProviderRejected, "ESME_RINVSRCADR"),
        (0x401, errors.ProviderRejected, "0x00000401"),
    ],
)
def test_submit_refusals_are_classified_by_command_status(smsc: Smsc, settings, status, error, name) -> None:
    smsc.control(status={DEST: status})
    with pytest.raises(error, match=name) as caught:
        sms(smsc)
    assert caught.type is error and DEST not in str(caught.value)


def test_a_vendor_status_can_be_marked_retryable(smsc: Smsc, settings) -> None:
    smsc.control(status={DEST: 0x401})
    with pytest.raises(errors.ProviderUnavailable, match="0x00000401"):
        sms(smsc, config=smsc.config(retry_statuses=["0x401"]))


@pytest.mark.parametrize(
    ("system_id", "password", "name"),
    [("clinic", "wrong", "ESME_RINVPASWD"), ("nobody", "secret", "ESME_RINVSYSID")],
)
def test_a_refused_bind_is_permanent(smsc: Smsc, settings, system_id, password, name) -> None:
    with pytest.raises(errors.ProviderRejected, match=name) as caught:
        sms(smsc, config=smsc.config(system_id=system_id, password=password))
    assert password not in str(caught.value) and not smsc.pdus("submit_sm")


def test_bad_config_fails_before_any_connection(smsc: Smsc, settings) -> None:
    with pytest.raises(errors.ConfigurationError, match="password is longer than 8"):
        sms(smsc, config=smsc.config(password="much-too-long"))
    with pytest.raises(errors.ConfigurationError, match="host"):
        sms(smsc, config={"system_id": "clinic", "password": "secret"})
    for key, value in (("port", "smsc"), ("enquire_link_interval", "often"), ("long_messages", "sar")):
        with pytest.raises(errors.ConfigurationError, match=key):
            sms(smsc, config=smsc.config(**{key: value}))
    assert smsc.pdus() == []


def test_a_payload_host_passes_the_network_guard(smsc: Smsc, settings_factory) -> None:
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[])
    with pytest.raises(errors.DestinationRefused, match="loopback"):
        sms(smsc)
    assert smsc.pdus() == []


def test_an_account_from_settings_is_trusted(smsc: Smsc, settings_factory) -> None:
    settings_factory(WEBHOOK_ALLOWED_NETWORKS=[], SMS_ACCOUNTS={"smsc": {"gateway": "smpp", **smsc.config()}})
    payload = {"task": 1, "account": "smsc", "to": NUMBER, "message": TEXT}
    assert send_sms({"payload": payload})["provider_message_id"] == smsc.pdus("submit_sm")[0]["message_id"]


def test_no_password_number_or_text_in_any_log_line(smsc: Smsc, settings, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    smsc.control(status={"919812345678": 0x58})
    sms(smsc, config=smsc.config(dlt_entity_id=ENTITY))
    with pytest.raises(errors.RateLimited):
        sms(smsc, to="+919812345678")
    masking = MaskingFilter()
    lines = []
    for record in caplog.records:
        masking.filter(record)
        lines.append(record.getMessage())
    output = "\n".join(lines)
    assert "smpp bound" in output
    for secret in ("secret", "9876543210", "9812345678", TEXT, TEXT.encode().hex(), "736563726574"):
        assert secret not in output


@pytest.fixture
def tls_smsc(tmp_path) -> Iterator[tuple[Smsc, str]]:
    from tasks.gateways.smpp import pool

    node_ready()
    ca = make_ca(tmp_path)
    cert, key = ca.issue(tmp_path, "smsc", ["127.0.0.1"])
    simulator = Smsc(tmp_path, tls={"key": str(key), "cert": str(cert)})
    simulator.start()
    yield simulator, str(ca.path)
    pool.close_all()
    simulator.kill()


def test_smpp_over_tls_checks_the_certificate(tls_smsc, tmp_path, settings) -> None:
    simulator, ca_file = tls_smsc
    result = sms(simulator, config=simulator.config(tls=True, tls_ca_file=ca_file))
    assert result["provider_message_id"] == simulator.pdus("submit_sm")[0]["message_id"]
    (tmp_path / "other").mkdir()
    other = make_ca(tmp_path / "other")  # a CA that did not sign the SMSC's certificate
    with pytest.raises(errors.ProviderRejected, match=r"TLS certificate .* refused"):
        sms(simulator, config=simulator.config(tls=True, tls_ca_file=str(other.path)))
    assert len(simulator.pdus("bind_transceiver")) == 1


def test_an_ipv6_smsc(tmp_path, settings) -> None:
    from tasks.gateways.smpp import pool

    node_ready()
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    simulator = Smsc(tmp_path, host="::1")
    try:
        simulator.start()
        assert sms(simulator)["provider_message_id"] == simulator.pdus("submit_sm")[0]["message_id"]
    finally:
        pool.close_all()
        simulator.kill()


def test_dry_run_binds_nothing(smsc: Smsc, settings_factory) -> None:
    settings_factory(DRY_RUN=True)
    assert sms(smsc)["dry_run"] == "true"
    assert smsc.pdus() == []
