"""A small SMSC for the tests: SMPP 3.4 over TCP on 127.0.0.1 (a free port), written from the specification with
``struct`` (not with smpplib, so the client's library is not tested against itself).

It binds transceivers, answers submit_sm with an id and sends delivery receipts, answers and sends enquire_link,
and can misbehave on demand: throttle or refuse submits, answer late or twice, send a receipt first or twice,
drop the connection in the middle, keep silent.
"""
import socket
import struct
import threading
import time
from collections import deque

BIND_TRANSCEIVER = 0x00000009
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000

ESME_RINVPASWD = 0x0000000E
ESME_RTHROTTLED = 0x00000058
ESME_RMSGQFUL = 0x00000014
ESME_RINVDSTADR = 0x0000000B


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


class _Reader:
    def __init__(self, body: bytes):
        self.body, self.pos = body, 0

    def cstr(self) -> str:
        end = self.body.index(b"\x00", self.pos)
        value = self.body[self.pos:end].decode("latin-1")
        self.pos = end + 1
        return value

    def u8(self) -> int:
        self.pos += 1
        return self.body[self.pos - 1]

    def octets(self, n: int) -> bytes:
        self.pos += n
        return self.body[self.pos - n:self.pos]

    def tlvs(self) -> dict[int, bytes]:
        found = {}
        while self.pos + 4 <= len(self.body):
            tag, length = struct.unpack(">HH", self.body[self.pos:self.pos + 4])
            self.pos += 4
            found[tag] = self.octets(length)
        return found


def parse_submit(body: bytes) -> dict:
    r = _Reader(body)
    submit = {"service_type": r.cstr(), "source_ton": r.u8(), "source_npi": r.u8(), "source": r.cstr(),
              "dest_ton": r.u8(), "dest_npi": r.u8(), "destination": r.cstr(), "esm_class": r.u8(),
              "protocol_id": r.u8(), "priority": r.u8(), "schedule": r.cstr(), "validity": r.cstr(),
              "registered_delivery": r.u8(), "replace": r.u8(), "data_coding": r.u8(), "default_msg_id": r.u8()}
    submit["short_message"] = r.octets(r.u8())
    submit["tlvs"] = r.tlvs()
    return submit


def receipt_body(smsc_id: str, stat: str, *, tlvs: bool = False, to: str = "79161234567") -> bytes:
    text = (f"id:{smsc_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} submit date:2612070400 "
            f"done date:2612070401 stat:{stat} err:000 text:").encode()
    body = (cstr("") + bytes((1, 1)) + cstr(to) + bytes((5, 0)) + cstr("TestTel") + bytes((0x04, 0, 0)) + cstr("")
            + cstr("") + bytes((0, 0, 0, 0)) + bytes((len(text),)) + text)
    if tlvs:
        states = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7,
                  "REJECTD": 8}
        rid = cstr(smsc_id)
        body += struct.pack(">HH", 0x001E, len(rid)) + rid + struct.pack(">HHB", 0x0427, 1, states[stat])
    return body


class FakeSmsc:
    """Runs in threads until ``stop()``. Change its attributes to make it misbehave; read what it saw."""

    def __init__(self, *, system_id: str = "portal", password: str = "secret"):
        self.system_id, self.password = system_id, password
        self.submit_statuses: deque[int] = deque()  # answers for the next submits (then ROK)
        self.resp_delay = 0.0  # seconds before each submit_sm_resp
        self.answer_twice = False
        self.receipt: str | None = "DELIVRD"  # a receipt after each accepted submit (None: none)
        self.receipt_first = False  # the receipt before the submit_sm_resp
        self.receipt_twice = False
        self.receipt_tlvs = False
        self.drop_at_submit: int | None = None  # close the connection on receiving submit number N (1-based)
        self.answer_enquire_link = True
        self.refuse_connections = 0  # close the next N connections at once
        self.bind_delay = 0.0  # seconds before answering a bind
        # What it saw.
        self.binds: list[tuple[str, str, str]] = []
        self.submits: list[dict] = []
        self.enquire_links = 0
        self.unbinds = 0
        self.deliver_resps: list[tuple[int, int]] = []  # (sequence, status)
        self.responses: list[int] = []  # command ids of the other answers the client sent (enquire_link_resp …)
        self.connections = 0
        self.ids = 0
        self._sequence = 1000
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        # Receipts sent and not acknowledged with ROK: sent again on the next bind, as an SMSC does.
        self._unacknowledged: dict[int, bytes] = {}
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = self._listener.getsockname()[1]
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    # --- driving it from a test -----------------------------------------------------------------------------

    def stop(self) -> None:
        self._running = False
        self._listener.close()
        self.drop()

    def drop(self) -> None:
        """Close every open connection (an SMSC restart, a cut cable)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def send(self, command_id: int, body: bytes = b"") -> int:
        """Send a PDU to the bound client (the latest connection); return its sequence number."""
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
            conn = self._conns[-1]
        self._write(conn, pdu(command_id, sequence, body))
        return sequence

    def send_receipt(self, smsc_id: str, stat: str = "DELIVRD", *, tlvs: bool = False) -> int:
        return self.send(DELIVER_SM, receipt_body(smsc_id, stat, tlvs=tlvs))

    def send_receipts(self, smsc_ids: list[str], stat: str = "DELIVRD") -> None:
        """Several receipts in one write: they arrive together."""
        with self._lock:
            conn = self._conns[-1]
            data = b""
            for smsc_id in smsc_ids:
                self._sequence += 1
                data += pdu(DELIVER_SM, self._sequence, receipt_body(smsc_id, stat))
        self._write(conn, data)

    def wait_for(self, condition, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("the fake SMSC waited in vain")
            time.sleep(0.01)

    # --- the server -----------------------------------------------------------------------------------------

    def _accept(self) -> None:
        while self._running:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.refuse_connections:
                self.refuse_connections -= 1
                conn.close()
                continue
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _write(self, conn: socket.socket, data: bytes) -> None:
        try:
            with self._lock:
                conn.sendall(data)
        except OSError:
            pass

    def _read_exact(self, conn: socket.socket, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            try:
                chunk = conn.recv(n - len(data))
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _serve(self, conn: socket.socket) -> None:
        while self._running:
            header = self._read_exact(conn, 16)
            if header is None:
                break
            length, command_id, status, sequence = struct.unpack(">IIII", header)
            body = self._read_exact(conn, length - 16) if length > 16 else b""
            if body is None:
                break
            if not self._handle(conn, command_id, status, sequence, body):
                break
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)
        conn.close()

    def _handle(self, conn, command_id: int, status: int, sequence: int, body: bytes) -> bool:
        if command_id == BIND_TRANSCEIVER:
            r = _Reader(body)
            system_id, password, system_type = r.cstr(), r.cstr(), r.cstr()
            self.binds.append((system_id, password, system_type))
            if self.bind_delay:
                time.sleep(self.bind_delay)
            ok = (system_id, password) == (self.system_id, self.password)
            self._write(conn, pdu(BIND_TRANSCEIVER | RESP, sequence, cstr("FakeSMSC"),
                                  0 if ok else ESME_RINVPASWD))
            if ok:
                with self._lock:
                    pending, self._unacknowledged = list(self._unacknowledged.values()), {}
                for body in pending:
                    self._deliver(conn, body, once=True)
            return ok
        if command_id == SUBMIT_SM:
            submit = parse_submit(body)
            submit["at"] = time.monotonic()
            # The delay as it was when the submit came: a test may change it as soon as it sees the submit.
            submit["resp_delay"] = self.resp_delay
            self.submits.append(submit)
            if self.drop_at_submit is not None and len(self.submits) >= self.drop_at_submit:
                self.drop_at_submit = None
                return False
            answer = self.submit_statuses.popleft() if self.submit_statuses else 0
            threading.Thread(target=self._answer_submit, args=(conn, sequence, answer, submit), daemon=True).start()
            return True
        if command_id == ENQUIRE_LINK:
            self.enquire_links += 1
            if self.answer_enquire_link:
                self._write(conn, pdu(ENQUIRE_LINK | RESP, sequence))
            return True
        if command_id == UNBIND:
            self.unbinds += 1
            self._write(conn, pdu(UNBIND | RESP, sequence))
            return False
        if command_id == DELIVER_SM | RESP:
            self.deliver_resps.append((sequence, status))
            if status == 0:
                with self._lock:
                    self._unacknowledged.pop(sequence, None)
            return True
        if command_id & RESP:
            self.responses.append(command_id)
            return True
        self._write(conn, pdu(GENERIC_NACK, sequence, status=0x03))
        return True

    def _answer_submit(self, conn, sequence: int, status: int, submit: dict) -> None:
        smsc_id = None
        if status == 0:
            with self._lock:
                self.ids += 1
                smsc_id = f"M{self.ids:06d}"
            submit["smsc_id"] = smsc_id
        receipt = receipt_body(smsc_id, self.receipt, tlvs=self.receipt_tlvs) if smsc_id and self.receipt else None
        if receipt and self.receipt_first:
            self._deliver(conn, receipt)
        if submit["resp_delay"]:
            time.sleep(submit["resp_delay"])
        resp = pdu(SUBMIT_SM | RESP, sequence, cstr(smsc_id) if smsc_id else b"", status)
        submit["answered_at"] = time.monotonic()
        self._write(conn, resp)
        if self.answer_twice:
            self._write(conn, resp)
        if receipt and not self.receipt_first:
            self._deliver(conn, receipt)

    def _deliver(self, conn, body: bytes, *, once: bool = False) -> None:
        for _ in range(1 if once or not self.receipt_twice else 2):
            with self._lock:
                self._sequence += 1
                sequence = self._sequence
                self._unacknowledged[sequence] = body
            self._write(conn, pdu(DELIVER_SM, sequence, body))
