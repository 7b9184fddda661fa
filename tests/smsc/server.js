// An SMSC simulator for the smpp gateway's tests, built on the npm `smpp` package (server side).
//
//   node server.js '{"port": 0, "log": "/tmp/pdus.jsonl", "control": "/tmp/control.json",
//                    "accounts": {"clinic": "secret"}}'
//
// Prints "LISTENING <port>" once it listens on 127.0.0.1. Every PDU it receives is appended to
// `log` as one JSON line: the command, sequence number, session id, the fields the package decoded
// and, for binds and submit_sm, the fields read again from the raw octets (short_message as hex,
// every TLV by tag as hex) so tests can check the exact bytes.
//
// It checks bind credentials against `accounts` (ESME_RINVSYSID / ESME_RINVPASWD), answers
// submit_sm with a message id ("<run>-<n>"), enquire_link, unbind, and sends a delivery receipt
// when registered_delivery asks for one. `control` (JSON, read at every submit_sm) steers the
// answer by destination_addr:
//   {"script": {"919800000001": [88, 0]}}  command_status of the next submits to that number, in
//                                          order (then 0); a status stays for ever with "status"
//   {"status": {"919800000002": 11}}       always answer this command_status
//   {"silent": ["919800000003"]}           never answer
//   {"drop": ["919800000004"]}             close the connection instead of answering
"use strict";

const fs = require("fs");
const smpp = require("smpp");

const options = JSON.parse(process.argv[2] || "{}");
const accounts = options.accounts || { clinic: "secret" };
const run = process.pid.toString(36);
const consumed = {};
let sessions = 0;
let messages = 0;

// Keep the raw octets of every PDU the package parses, to read them again independently.
const parse = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buffer) {
  Object.defineProperty(this, "raw", { value: Buffer.from(buffer), enumerable: false });
  return parse.call(this, buffer);
};

function record(entry) {
  if (options.log) fs.appendFileSync(options.log, JSON.stringify(entry) + "\n");
}

function cstring(buffer, offset) {
  const end = buffer.indexOf(0, offset);
  return [buffer.toString("latin1", offset, end), end + 1];
}

function tlvs(buffer, offset) {
  const found = {};
  while (offset + 4 <= buffer.length) {
    const tag = buffer.readUInt16BE(offset);
    const length = buffer.readUInt16BE(offset + 2);
    found["0x" + tag.toString(16).padStart(4, "0")] = buffer.slice(offset + 4, offset + 4 + length).toString("hex");
    offset += 4 + length;
  }
  return found;
}

function rawBind(buffer) {
  let offset = 16;
  const fields = {};
  [fields.system_id, offset] = cstring(buffer, offset);
  [fields.password, offset] = cstring(buffer, offset);
  [fields.system_type, offset] = cstring(buffer, offset);
  fields.interface_version = buffer[offset];
  return fields;
}

function rawSubmit(buffer) {
  let offset = 16;
  const f = {};
  [f.service_type, offset] = cstring(buffer, offset);
  f.source_addr_ton = buffer[offset++];
  f.source_addr_npi = buffer[offset++];
  [f.source_addr, offset] = cstring(buffer, offset);
  f.dest_addr_ton = buffer[offset++];
  f.dest_addr_npi = buffer[offset++];
  [f.destination_addr, offset] = cstring(buffer, offset);
  f.esm_class = buffer[offset++];
  f.protocol_id = buffer[offset++];
  f.priority_flag = buffer[offset++];
  [f.schedule_delivery_time, offset] = cstring(buffer, offset);
  [f.validity_period, offset] = cstring(buffer, offset);
  f.registered_delivery = buffer[offset++];
  f.replace_if_present_flag = buffer[offset++];
  f.data_coding = buffer[offset++];
  f.sm_default_msg_id = buffer[offset++];
  const length = buffer[offset++];
  f.short_message = buffer.slice(offset, offset + length).toString("hex");
  f.tlvs = tlvs(buffer, offset + length);
  return f;
}

function decodedText(value) {
  if (value && typeof value === "object" && "message" in value) return String(value.message);
  return typeof value === "string" ? value : null;
}

function control() {
  try {
    return JSON.parse(fs.readFileSync(options.control, "utf8"));
  } catch (e) {
    return {};
  }
}

function statusFor(rules, destination) {
  const script = (rules.script || {})[destination];
  if (script) {
    const index = consumed[destination] || 0;
    consumed[destination] = index + 1;
    if (index < script.length) return script[index];
  }
  return (rules.status || {})[destination] || 0;
}

function onBind(session, pdu) {
  const fields = rawBind(pdu.raw);
  const known = Object.prototype.hasOwnProperty.call(accounts, fields.system_id);
  let status = 0;
  if (!known) status = smpp.ESME_RINVSYSID;
  else if (accounts[fields.system_id] !== fields.password) status = smpp.ESME_RINVPASWD;
  record({ command: pdu.command, session: session.id, sequence_number: pdu.sequence_number, ...fields, status });
  session.send(pdu.response({ command_status: status, system_id: "fusion-smsc" }));
  session.bound = status === 0;
}

function receipt(session, id, submit) {
  const text = `id:${id} sub:001 dlvrd:001 submit date:2601010000 done date:2601010000 stat:DELIVRD err:000 text:`;
  session.deliver_sm({
    source_addr: submit.destination_addr,
    destination_addr: submit.source_addr,
    esm_class: 0x04,
    short_message: text,
    receipted_message_id: id,
    message_state: 2,
  });
}

function onSubmit(session, pdu) {
  const fields = rawSubmit(pdu.raw);
  const payload = fields.tlvs["0x0424"];
  const entry = { command: "submit_sm", session: session.id, sequence_number: pdu.sequence_number, ...fields };
  entry.text = decodedText(pdu.short_message) || decodedText(pdu.message_payload);
  entry.message_payload = payload || null;
  const rules = control();
  const destination = fields.destination_addr;
  if ((rules.drop || []).includes(destination)) {
    record({ ...entry, answer: "drop" });
    session.destroy();
    return;
  }
  if ((rules.silent || []).includes(destination)) {
    record({ ...entry, answer: "silent" });
    return;
  }
  const status = session.bound ? statusFor(rules, destination) : smpp.ESME_RINVBNDSTS;
  const id = status === 0 ? `${run}-${++messages}` : null;
  record({ ...entry, answer: status, message_id: id });
  session.send(pdu.response(status === 0 ? { message_id: id } : { command_status: status }));
  if (status === 0 && fields.registered_delivery & 1) receipt(session, id, fields);
}

// With "tls": {"key": "<key.pem>", "cert": "<cert.pem>"} it speaks SMPP over TLS.
const tlsOptions = options.tls
  ? { key: fs.readFileSync(options.tls.key), cert: fs.readFileSync(options.tls.cert) }
  : {};
const server = smpp.createServer(tlsOptions, (session) => {
  session.id = ++sessions;
  session.bound = false;
  session.on("error", () => {});
  for (const command of ["bind_transceiver", "bind_transmitter", "bind_receiver"]) {
    session.on(command, (pdu) => onBind(session, pdu));
  }
  session.on("submit_sm", (pdu) => onSubmit(session, pdu));
  session.on("enquire_link", (pdu) => {
    record({ command: "enquire_link", session: session.id, sequence_number: pdu.sequence_number });
    session.send(pdu.response());
  });
  session.on("unbind", (pdu) => {
    record({ command: "unbind", session: session.id, sequence_number: pdu.sequence_number });
    session.send(pdu.response());
    session.close();
  });
  for (const command of ["deliver_sm_resp", "enquire_link_resp", "generic_nack", "unbind_resp"]) {
    session.on(command, (pdu) => {
      record({ command, session: session.id, sequence_number: pdu.sequence_number, status: pdu.command_status });
    });
  }
});

server.listen(options.port || 0, options.host || "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
