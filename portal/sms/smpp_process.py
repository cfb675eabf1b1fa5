"""The `flask sms smpp` process: one transceiver bind to the SMSC that sends the outbox and reads the receipts.

One thread, one loop, like a `celery worker`:

1. While the window (SMPP_WINDOW unanswered submit_sm) has room, it claims queued messages for a lease in a short
   transaction (``domain.sms.claim_queued``), then sends their parts no faster than SMPP_SUBMIT_RATE submit_sm a
   second. No transaction is open while it talks to the SMSC.
2. It reads what the SMSC sends (all that has come, recorded in one transaction per kind): a submit_sm_resp records
   the part and its SMSC id (``record_parts``: the message is sent once every part is); an error answer sends the
   message back to the queue for later (throttled, a full queue, a system error: and sending pauses, growing while
   the SMSC keeps saying so) or fails it (any other error); a delivery receipt (deliver_sm) settles the part and
   the message (``apply_receipts``) and is answered only after that committed; enquire_link is answered; unbind
   ends the link.
3. Silence for SMPP_ENQUIRE_LINK seconds → enquire_link; no answer to anything within SMPP_TIMEOUT → the link is
   taken as dead. A dead link: the messages it was sending go back to the queue (the parts already accepted are
   not sent again), and the process reconnects after a delay growing from SMPP_RECONNECT_MIN to SMPP_RECONNECT_MAX.

A part whose answer was lost with the link is sent again on the next bind: the SMSC may then deliver it twice
(at least once, never lost). The Celery delivery task leaves messages to this process when SMS_BACKEND is smpp.
"""
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.orm import Session

from portal.domain import sms
from portal.models import utcnow
from portal.sms.smpp import (
    ROK,
    RX_T_APPN,
    LinkDown,
    Receipt,
    SmppError,
    SmppLink,
    SmppSettings,
    encode_message,
    error_for,
    is_receipt,
    parse_receipt,
)

log = logging.getLogger("portal.smpp")
# PDUs read together (all that has come by the time one is read) are recorded in one transaction.
BATCH = 200
# Receipts for ids no part ever took are kept this long, pruned once an hour.
RECEIPT_KEEP = timedelta(days=7)
PRUNE_EVERY = 3600.0


@dataclass
class _Message:
    id: int
    to: str
    sender: str
    parts: int


@dataclass(frozen=True)
class _Part:
    message_id: int
    part_no: int
    payload: bytes
    data_coding: int
    esm_class: int


class SmppProcess:
    """Holds the bind and moves messages: ``run`` until ``stop`` is set."""

    def __init__(self, session_factory: Callable[[], Session], settings: SmppSettings, *, sender: str,
                 max_attempts: int, lease: timedelta, now: Callable[[], datetime] = utcnow,
                 clock: Callable[[], float] = time.monotonic):
        self.session_factory = session_factory
        self.settings = settings
        self.sender = sender
        self.max_attempts = max_attempts
        self.lease = lease
        self.now = now
        self.clock = clock
        self.link: SmppLink | None = None
        self.messages: dict[int, _Message] = {}
        self.queue: deque[_Part] = deque()
        self.inflight: dict[int, tuple[_Part, float]] = {}  # sequence → (part, sent at)
        self.enquiring: float | None = None  # when the unanswered enquire_link went
        self.last_heard = 0.0
        self.next_submit = 0.0
        self.paused_until = 0.0
        self.throttle_pause = settings.throttle_pause
        self.next_poll = 0.0
        self.next_prune = 0.0
        self.failures = 0  # connection attempts failed in a row
        self.stats = {"submitted": 0, "accepted": 0, "refused": 0, "receipts": 0, "binds": 0}

    # --- the loop -------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.link is None and not self.connect():
                stop.wait(self.backoff())
                continue
            try:
                self.step()
            except LinkDown as err:
                log.warning("SMPP link down: %s", err)
                self.drop(str(err))
            except Exception:  # the database went away, a bug: start again from a clean state, a little later
                log.exception("SMPP process: unexpected error; the link is closed and opened again")
                self.drop("the SMPP process met an error")
                self.failures += 1
                stop.wait(self.backoff())
        self.close()

    def backoff(self) -> float:
        s = self.settings
        return min(s.reconnect_max, s.reconnect_min * 2 ** max(self.failures - 1, 0))

    def connect(self) -> bool:
        link = SmppLink(self.settings)
        try:
            link.open()
        except LinkDown as err:
            self.failures += 1
            log.warning("SMPP bind failed (%d in a row, next try in %.0f s): %s", self.failures, self.backoff(), err)
            return False
        log.info("SMPP bound to %s:%s as %s", self.settings.host, self.settings.port, self.settings.system_id)
        self.stats["binds"] += 1
        self.failures = 0
        self.link = link
        self.last_heard = self.clock()
        self.enquiring = None
        return True

    def close(self) -> None:
        """Stopping: unbind, and give back what was being sent (the answers still due would come too late)."""
        if self.link is not None:
            self.link.close(unbind=True)
            self.link = None
        self.drop("the SMPP process stopped")

    def step(self) -> None:
        """One turn: submit what may go now, read one PDU (waiting no longer than the next thing to do), act on it,
        and look at the clocks."""
        self.submit_ready()
        pdu = self.link.read(self._wait())
        if pdu is not None:
            self.last_heard = self.clock()
            batch = [pdu]  # and what else has come already: recorded in one transaction
            while len(batch) < BATCH and (pdu := self.link.read(0)) is not None:
                batch.append(pdu)
            self.handle_all(batch)
        self.check_timers()

    def _wait(self) -> float:
        """Seconds until the next thing to do: a submit or a look for messages (if the window has room), an
        enquire_link, a timeout; at most 1 s, so a stop is noticed soon."""
        now = self.clock()
        until = [self.last_heard + self.settings.enquire_link]
        if len(self.inflight) < self.settings.window:
            until.append(max(self.next_submit if self.queue else self.next_poll, self.paused_until))
        if self.inflight or self.enquiring is not None:
            until.append(min([sent for _, sent in self.inflight.values()] + [self.enquiring or now])
                         + self.settings.timeout)
        return min(max(0.0, min(until) - now), 1.0)

    # --- submitting -----------------------------------------------------------------------------------------

    def submit_ready(self) -> None:
        s = self.settings
        while len(self.inflight) < s.window:
            now = self.clock()
            if not self.queue and now >= max(self.next_poll, self.paused_until):
                self.claim(s.window - len(self.inflight))
            if not self.queue or now < max(self.next_submit, self.paused_until):
                return
            part = self.queue.popleft()
            message = self.messages.get(part.message_id)
            if message is None:  # released meanwhile
                continue
            sequence = self.link.submit(message.to, part.payload, data_coding=part.data_coding,
                                        esm_class=part.esm_class, sender=message.sender)
            self.inflight[sequence] = (part, now)
            self.stats["submitted"] += 1
            self.next_submit = max(self.next_submit, now) + 1 / s.submit_rate

    def claim(self, limit: int) -> None:
        with self.session_factory() as session:
            claimed = sms.claim_queued(session, now=self.now(), lease=self.lease, limit=limit,
                                       exclude=frozenset(self.messages))
        if not claimed:
            self.next_poll = self.clock() + self.settings.poll
            return
        for message in claimed:
            try:
                encoded = encode_message(message.text, reference=message.id)
            except SmppError as err:
                self._release(message.id, str(err), permanent=True)
                continue
            self.messages[message.id] = _Message(message.id, message.to, message.sender or self.sender,
                                                 len(encoded.payloads))
            for number, payload in enumerate(encoded.payloads, start=1):
                if number not in message.accepted:
                    self.queue.append(_Part(message.id, number, payload, encoded.data_coding, encoded.esm_class))
            if all(number in message.accepted for number in range(1, len(encoded.payloads) + 1)):
                self._accepted_all(message.id)

    def _accepted_all(self, message_id: int) -> None:
        """Every part was accepted on an earlier attempt (its last answer came after the message was let go)."""
        message = self.messages.pop(message_id)
        with self.session_factory() as session:
            sms.settle_sent(session, message_id, parts=message.parts, now=self.now())

    # --- what the SMSC sends --------------------------------------------------------------------------------

    def handle_all(self, batch: list) -> None:
        """Act on PDUs read together: the parts accepted and the receipts are recorded in one transaction each."""
        accepted: list[tuple[_Part, _Message | None, str]] = []
        receipts: list[tuple[object, Receipt]] = []
        try:
            for pdu in batch:
                self.handle(pdu, accepted, receipts)
        finally:  # an unbind in the middle: what came before it is still recorded
            self.record_accepted(accepted)
            self.record_receipts(receipts)

    def handle(self, pdu, accepted: list, receipts: list) -> None:
        command = pdu.command
        if command == "submit_sm_resp" or (command == "generic_nack" and pdu.sequence in self.inflight):
            self.submit_answered(pdu, accepted)
        elif command == "deliver_sm":
            self.delivered(pdu, receipts)
        elif command == "enquire_link":
            self.link.answer(pdu, "enquire_link_resp")
        elif command == "enquire_link_resp":
            self.enquiring = None
        elif command == "unbind":
            self.link.answer(pdu, "unbind_resp")
            raise LinkDown("the SMSC unbound")
        else:
            log.info("SMPP: %s ignored", command)

    def submit_answered(self, pdu, accepted: list) -> None:
        taken = self.inflight.pop(pdu.sequence, None)
        if taken is None:  # a second answer to the same submit_sm, or one after the link was given up
            log.info("SMPP: an answer to submit_sm %s that is no longer waited for, ignored", pdu.sequence)
            return
        part, _ = taken
        message = self.messages.get(part.message_id)
        status = int(pdu.status or 0)
        if status == ROK:
            smsc_id = _text(getattr(pdu, "message_id", None))[:65]
            if not smsc_id:
                self._refused(part, SmppError("the SMSC gave no message id"))
                return
            self.stats["accepted"] += 1
            self.throttle_pause = self.settings.throttle_pause
            accepted.append((part, message, smsc_id))
            return
        self._refused(part, error_for(status))

    def record_accepted(self, accepted: list[tuple[_Part, "_Message | None", str]]) -> None:
        if not accepted:
            return
        with self.session_factory() as session:
            # A message let go meanwhile (parts None): the part is kept, the message stays queued.
            statuses = sms.record_parts(session, [(part.message_id, part.part_no, message.parts if message else None,
                                                   smsc_id) for part, message, smsc_id in accepted], now=self.now())
        for (part, message, _), status in zip(accepted, statuses):
            if message is None or self.messages.get(part.message_id) is not message:
                continue
            # Sent, failed, or (never seen) still queued with nothing more on the way: this process is done with
            # it; a message left queued is taken again when its claim runs out.
            if status != "queued" or not self._on_the_way(part.message_id):
                del self.messages[part.message_id]

    def _on_the_way(self, message_id: int) -> bool:
        return any(p.message_id == message_id for p in self.queue) or \
            any(p.message_id == message_id for p, _ in self.inflight.values())

    def _refused(self, part: _Part, err: SmppError) -> None:
        self.stats["refused"] += 1
        retry_in = self.settings.retry_after
        if err.throttled:  # the SMSC is too busy: everything waits, a little longer each time it says so
            retry_in = self.throttle_pause
            self.paused_until = self.clock() + retry_in
            log.warning("SMPP: %s; sending pauses %.1f s", err, retry_in)
            self.throttle_pause = min(self.throttle_pause * 2, self.settings.reconnect_max)
        self._release(part.message_id, str(err), permanent=err.permanent, throttled=err.throttled,
                      retry_in=retry_in)

    def _release(self, message_id: int, error: str, *, permanent: bool, throttled: bool = False,
                 retry_in: float | None = None) -> None:
        self.messages.pop(message_id, None)
        self.queue = deque(p for p in self.queue if p.message_id != message_id)
        now = self.now()
        with self.session_factory() as session:
            sms.release(session, message_id, now=now, error=error, permanent=permanent, throttled=throttled,
                        retry_at=now + timedelta(seconds=retry_in) if retry_in else None,
                        max_attempts=self.max_attempts)

    def delivered(self, pdu, receipts: list) -> None:
        """A deliver_sm: a receipt settles its part; answered after the commit (``record_receipts``), so a failure
        there makes the SMSC send it again (ESME_RX_T_APPN) rather than lose it."""
        if not is_receipt(pdu):
            log.info("SMPP: a message from %s (not a receipt) ignored", _text(getattr(pdu, "source_addr", "")))
            self.link.answer(pdu, "deliver_sm_resp")
            return
        receipt = parse_receipt(pdu.short_message, receipted_message_id=getattr(pdu, "receipted_message_id", None),
                                message_state=getattr(pdu, "message_state", None))
        if receipt is None:
            log.warning("SMPP: a receipt without a message id ignored: %r", pdu.short_message)
            self.link.answer(pdu, "deliver_sm_resp")
            return
        receipts.append((pdu, receipt))

    def record_receipts(self, receipts: list) -> None:
        if not receipts:
            return
        status = ROK
        try:
            with self.session_factory() as session:
                outcomes = sms.apply_receipts(session, [(r.smsc_id, r.state, r.stat) for _, r in receipts],
                                              now=self.now())
        except Exception:
            log.exception("SMPP: %d receipt(s) could not be recorded; the SMSC will send them again", len(receipts))
            status, outcomes = RX_T_APPN, ["refused"] * len(receipts)
        for (pdu, receipt), outcome in zip(receipts, outcomes):
            self.stats["receipts"] += 1
            log.info("SMPP: receipt %s %s: %s", receipt.smsc_id, receipt.stat, outcome)
            self.link.answer(pdu, "deliver_sm_resp", status=status)

    # --- timers ---------------------------------------------------------------------------------------------

    def check_timers(self) -> None:
        now = self.clock()
        if now >= self.next_prune:
            self.next_prune = now + PRUNE_EVERY
            with self.session_factory() as session:
                sms.prune_receipts(session, older_than=self.now() - RECEIPT_KEEP)
        timeout = self.settings.timeout
        if any(now - sent > timeout for _, sent in self.inflight.values()):
            raise LinkDown(f"no answer to a submit_sm within {timeout:g} s")
        if self.enquiring is not None and now - self.enquiring > timeout:
            raise LinkDown(f"no answer to enquire_link within {timeout:g} s")
        if self.enquiring is None and now - self.last_heard >= self.settings.enquire_link:
            self.link.enquire_link()
            self.enquiring = now

    def drop(self, reason: str) -> None:
        """The link is gone: close it and give the messages it was sending back to the queue."""
        if self.link is not None:
            self.link.close()
            self.link = None
        for message_id in list(self.messages):
            try:
                self._release(message_id, reason, permanent=False)
            except Exception:  # the database is down too: the claim runs out and the message is taken again
                log.exception("SMPP: message %s could not be given back; its claim will run out", message_id)
                self.messages.pop(message_id, None)
        self.inflight.clear()
        self.queue.clear()
        self.enquiring = None


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("latin-1")
    return str(value or "")


def process_from_config(cfg, session_factory: Callable[[], Session]) -> SmppProcess:
    return SmppProcess(session_factory, SmppSettings.from_config(cfg), sender=cfg["SMS_SENDER"] or cfg["BRAND"],
                       max_attempts=cfg["SMS_MAX_ATTEMPTS"], lease=timedelta(seconds=cfg["SMPP_LEASE"]))
