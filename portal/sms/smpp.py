"""SMS through the operator's SMSC over SMPP 3.4 (``smpplib``): the message codec and one transceiver bind.

- A text is sent in GSM-7 (data_coding 0, one septet per octet, an extension character as the escape plus its code)
  or else UCS-2 (data_coding 8, UTF-16BE), split into parts by the rules that count the parts for the customer
  (``portal.domain.websms.split_text``). A message of several parts carries a user data header in each (IEI 00,
  an 8-bit reference, the count, the part's number; esm_class 0x40).
- Every submit_sm asks for a delivery receipt (registered_delivery 1); a receipt is a deliver_sm with esm_class
  0x04 whose text is ``id:… sub:… dlvrd:… submit date:… done date:… stat:DELIVRD err:…``; the
  receipted_message_id and message_state TLVs, when present, win over the text.
- ``SmppLink`` is one connection: connect and bind with a timeout, submit, read, answer. It holds no state about
  messages: ``portal.sms.smpp_process`` runs the `flask sms smpp` process around it.
"""
import re
import select
import socket
from dataclasses import dataclass

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from portal.domain.websms import GSM7_EXTENSION_CODES, GSM7_TABLE, split_text
from portal.sms import SmsSendError

DATA_CODING = {"gsm7": 0x00, "ucs2": 0x08}
ESM_UDHI = 0x40
ESM_RECEIPT = 0x04  # esm_class bits 2-5: an SMSC delivery receipt
REGISTERED_DELIVERY = 0x01  # a receipt on final delivery, success or failure
MAX_PARTS = 255

ROK = smpplib.consts.SMPP_ESME_ROK
RX_T_APPN = smpplib.consts.SMPP_ESME_RX_T_APPN  # our answer to a receipt we could not record: send it again
# Answers after which the same message may go later: the SMSC is busy, not the message wrong.
THROTTLED = frozenset({smpplib.consts.SMPP_ESME_RTHROTTLED, smpplib.consts.SMPP_ESME_RMSGQFUL})
TEMPORARY = THROTTLED | {smpplib.consts.SMPP_ESME_RSYSERR, RX_T_APPN}

# The receipt's stat word → the part's state; ENROUTE, ACCEPTD (and anything else) are not final.
RECEIPT_STATS = {"DELIVRD": "delivered", "EXPIRED": "expired", "UNDELIV": "failed", "REJECTD": "failed",
                 "DELETED": "failed", "UNKNOWN": "failed"}
# The message_state TLV (SMPP 3.4 §5.2.28): 1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED, 5 UNDELIVERABLE,
# 6 ACCEPTED, 7 UNKNOWN, 8 REJECTED.
MESSAGE_STATES = {2: "delivered", 3: "expired", 4: "failed", 5: "failed", 7: "failed", 8: "failed"}
MESSAGE_STATE_STATS = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
                       7: "UNKNOWN", 8: "REJECTD"}
_RECEIPT_FIELD = re.compile(r"(id|stat|err):(\S*)", re.IGNORECASE)


class SmppError(SmsSendError):
    """The SMSC refused a PDU (``status``, the SMPP command_status) or the link failed (``status`` None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def throttled(self) -> bool:
        return self.status in THROTTLED

    @property
    def permanent(self) -> bool:
        """The message itself is refused (a bad number, a bad text): sending it again would not help."""
        return self.status is not None and self.status not in TEMPORARY


class LinkDown(SmppError):
    """The connection is gone (closed, reset, timed out, unbound): reconnect and send again what was unanswered."""


def describe(status: int) -> str:
    name = smpplib.consts.DESCRIPTIONS.get(status, "unknown error")
    return f"SMSC error 0x{status:08X}: {name}"


def error_for(status: int) -> SmppError:
    return SmppError(describe(status), status)


# --- the codec ------------------------------------------------------------------------------------------------

def encode_gsm7(text: str) -> bytes:
    """GSM 03.38 default alphabet, unpacked (one septet an octet, as SMPP carries data_coding 0)."""
    out = bytearray()
    for char in text:
        if char in GSM7_EXTENSION_CODES:
            out += bytes((0x1B, GSM7_EXTENSION_CODES[char]))
        else:
            code = GSM7_TABLE.find(char)
            if code < 0 or char == "\x1b":
                raise ValueError(f"not in the GSM 7-bit alphabet: {char!r}")
            out.append(code)
    return bytes(out)


def decode_gsm7(data: bytes) -> str:
    """The reverse of ``encode_gsm7`` (for tests and received messages)."""
    extension = {code: char for char, code in GSM7_EXTENSION_CODES.items()}
    out, escaped = [], False
    for byte in data:
        if escaped:
            out.append(extension.get(byte, " "))
            escaped = False
        elif byte == 0x1B:
            escaped = True
        else:
            out.append(GSM7_TABLE[byte & 0x7F])
    return "".join(out)


@dataclass(frozen=True)
class Encoded:
    data_coding: int
    esm_class: int
    payloads: tuple[bytes, ...]  # one short_message per part, the user data header included


def encode_message(text: str, *, reference: int) -> Encoded:
    """The submit_sm payloads of a text; ``reference`` (0-255) ties the parts of one message together, the same for
    every attempt at the message so the handset joins parts sent on different attempts."""
    encoding, chunks = split_text(text)
    if not chunks:
        raise SmppError("empty message", smpplib.consts.SMPP_ESME_RINVMSGLEN)
    encode = encode_gsm7 if encoding == "gsm7" else (lambda chunk: chunk.encode("utf-16-be"))
    if len(chunks) == 1:
        return Encoded(DATA_CODING[encoding], 0, (encode(chunks[0]),))
    if len(chunks) > MAX_PARTS:
        raise SmppError("message too long", smpplib.consts.SMPP_ESME_RINVMSGLEN)
    ref = reference % 256
    return Encoded(DATA_CODING[encoding], ESM_UDHI, tuple(
        bytes((0x05, 0x00, 0x03, ref, len(chunks), number)) + encode(chunk)
        for number, chunk in enumerate(chunks, start=1)))


@dataclass(frozen=True)
class Receipt:
    smsc_id: str
    state: str | None  # delivered | failed | expired; None: not final (ENROUTE, ACCEPTD)
    stat: str | None  # the receipt's word, e.g. UNDELIV
    error: str | None  # the err: field (network specific)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("latin-1")
    return str(value)


def parse_receipt(short_message, *, receipted_message_id=None, message_state=None) -> Receipt | None:
    """A delivery receipt's message id and state; None if it names no message id."""
    fields = {}
    for key, value in _RECEIPT_FIELD.findall(_text(short_message)):
        fields.setdefault(key.lower(), value)
    smsc_id = _text(receipted_message_id).strip() or fields.get("id", "").strip()
    if not smsc_id:
        return None
    stat = fields.get("stat", "").upper() or None
    state = RECEIPT_STATS.get(stat) if stat else None
    if message_state:
        state = MESSAGE_STATES.get(int(message_state))
        stat = MESSAGE_STATE_STATS.get(int(message_state), stat)
    return Receipt(smsc_id[:65], state, stat[:12] if stat else None, fields.get("err") or None)


def is_receipt(pdu) -> bool:
    return bool((getattr(pdu, "esm_class", 0) or 0) & 0x3C == ESM_RECEIPT)


def address(number: str) -> tuple[int, int, str]:
    """(TON, NPI, digits) of an address: +E.164 international/ISDN, other digits unknown/ISDN, letters
    alphanumeric."""
    if number.startswith("+") and number[1:].isdigit():
        return 1, 1, number[1:]
    if number.isdigit():
        return 0, 1, number
    return 5, 0, number[:11]


# --- one bind -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmppSettings:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    source_addr: str | None = None  # None: each message's sender (SMS_SENDER or the brand)
    submit_rate: float = 10.0  # submit_sm per second
    window: int = 10  # submit_sm sent and not yet answered
    timeout: float = 10.0  # seconds for a connect, a bind or an answer
    enquire_link: float = 30.0  # seconds of silence before an enquire_link
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    throttle_pause: float = 1.0  # first pause after ESME_RTHROTTLED / ESME_RMSGQFUL; doubles, up to reconnect_max
    retry_after: float = 30.0  # seconds before a message refused for a passing reason is submitted again
    poll: float = 1.0  # seconds between looks for queued messages while idle

    @classmethod
    def from_config(cls, cfg) -> "SmppSettings":
        # PORTAL_SMPP_PASSWORD=1234 arrives as a number (Flask reads prefixed variables as JSON).
        source = cfg["SMPP_SOURCE_ADDR"]
        return cls(str(cfg["SMPP_HOST"]), int(cfg["SMPP_PORT"]), str(cfg["SMPP_SYSTEM_ID"] or ""),
                   str(cfg["SMPP_PASSWORD"] or ""), str(cfg["SMPP_SYSTEM_TYPE"] or ""),
                   str(source) if source else None, float(cfg["SMPP_SUBMIT_RATE"]),
                   int(cfg["SMPP_WINDOW"]), float(cfg["SMPP_TIMEOUT"]), float(cfg["SMPP_ENQUIRE_LINK"]),
                   float(cfg["SMPP_RECONNECT_MIN"]), float(cfg["SMPP_RECONNECT_MAX"]),
                   float(cfg["SMPP_THROTTLE_PAUSE"]), float(cfg["SMPP_RETRY_AFTER"]), float(cfg["SMPP_POLL"]))


class SmppLink:
    """One TCP connection bound as a transceiver. Every failure of the connection raises ``LinkDown``."""

    def __init__(self, settings: SmppSettings):
        self.settings = settings
        self.client: smpplib.client.Client | None = None

    def open(self) -> None:
        s = self.settings
        client = smpplib.client.Client(s.host, s.port, timeout=s.timeout, allow_unknown_opt_params=True,
                                       logger_name="portal.smpp.wire")
        try:
            client.connect()
            client.bind_transceiver(system_id=s.system_id, password=s.password, system_type=s.system_type)
        except smpplib.exceptions.PDUError as err:
            client.disconnect()
            status = err.args[1] if len(err.args) > 1 else None
            raise LinkDown(f"bind refused: {describe(status) if status is not None else err}", status) from None
        except (smpplib.exceptions.ConnectionError, OSError) as err:
            client.disconnect()
            raise LinkDown(f"cannot connect to {s.host}:{s.port}: {err or 'no answer'}") from None
        self.client = client

    def close(self, *, unbind: bool = False) -> None:
        """Disconnect; ``unbind`` first says goodbye (unbind, then its answer or a short wait)."""
        if self.client is None:
            return
        if unbind:
            try:
                self._send(smpplib.smpp.make_pdu("unbind", client=self.client))
                deadline = 1.0
                while (pdu := self.read(deadline)) is not None and pdu.command != "unbind_resp":
                    deadline = 0.2
            except LinkDown:
                pass
        self.client.disconnect()
        self.client = None

    def _send(self, pdu) -> None:
        try:
            self.client.send_pdu(pdu)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError) as err:
            raise LinkDown(f"connection lost while sending: {err or 'closed'}") from None

    def submit(self, to: str, payload: bytes, *, data_coding: int, esm_class: int, sender: str) -> int:
        """Send one submit_sm; return its sequence number (the answer comes through ``read``)."""
        src_ton, src_npi, src = address(self.settings.source_addr or sender)
        dst_ton, dst_npi, dst = address(to)
        pdu = smpplib.smpp.make_pdu(
            "submit_sm", client=self.client, service_type="", source_addr_ton=src_ton, source_addr_npi=src_npi,
            source_addr=src, dest_addr_ton=dst_ton, dest_addr_npi=dst_npi, destination_addr=dst,
            esm_class=esm_class, protocol_id=0, priority_flag=0, registered_delivery=REGISTERED_DELIVERY,
            replace_if_present_flag=0, data_coding=data_coding, sm_default_msg_id=0, short_message=payload)
        self._send(pdu)
        return pdu.sequence

    def enquire_link(self) -> int:
        pdu = smpplib.smpp.make_pdu("enquire_link", client=self.client)
        self._send(pdu)
        return pdu.sequence

    def answer(self, pdu, command: str, status: int = ROK) -> None:
        """Answer a PDU the SMSC sent (deliver_sm_resp, enquire_link_resp, unbind_resp)."""
        resp = smpplib.smpp.make_pdu(command, client=self.client, status=status)
        resp.sequence = pdu.sequence
        self._send(resp)

    def read(self, timeout: float):
        """The next PDU from the SMSC, or None if none came within ``timeout`` seconds."""
        try:
            readable, _, _ = select.select([self.client._socket], [], [], max(timeout, 0))
            if not readable:
                return None
            return self.client.read_pdu()
        except socket.timeout:  # a PDU begun and not finished within the timeout
            raise LinkDown("the SMSC stopped in the middle of a PDU") from None
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError,
                smpplib.exceptions.UnknownCommandError, OSError, ValueError) as err:
            raise LinkDown(f"connection lost: {err or 'closed by the SMSC'}") from None
