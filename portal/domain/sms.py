"""The SMS outbox: queue in the caller's transaction, deliver after it commits."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from portal.models import SmsMessage, SmsPart, SmsReceipt
from portal.sms import SmsGateway, SmsSendError

# Ids of messages queued in this transaction; an after_commit hook (portal.jobs)
# hands them to the delivery task, so nothing is sent for a rolled-back change.
PENDING_KEY = "sms_pending"
# How long a worker may take over one message before the sweep may hand it out again (SMS_LEASE in the
# config): longer than the gateway's timeout.
DEFAULT_LEASE = timedelta(seconds=30)


def queue_sms(session: Session, *, to: str, text: str, purpose: str, sender: str | None = None) -> SmsMessage:
    """Add a message to the outbox; ``sender`` (a customer's number) replaces the operator's name if given."""
    message = SmsMessage(to=to, text=text, purpose=purpose, sender=sender)
    session.add(message)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(message.id)
    return message


def daily_quota_retry_after(session: Session, *, to: str, purpose: str, per_day: int,
                            now: datetime) -> datetime | None:
    """When a number may get one more message of this purpose, if it had ``per_day`` in the last 24 hours."""
    sent = session.scalars(select(SmsMessage.created_at).where(
        SmsMessage.to == to, SmsMessage.purpose == purpose, SmsMessage.created_at >= now - timedelta(days=1))
        .order_by(SmsMessage.created_at)).all()
    return sent[-per_day] + timedelta(days=1) if len(sent) >= per_day else None


def deliver_sms(session: Session, message_id: int, *, gateway: SmsGateway, sender: str, now: datetime,
                max_attempts: int, lease: timedelta = DEFAULT_LEASE) -> str:
    """Send one queued message; return its new status. Raises SmsSendError when a retry may help.

    A task delivered twice (a late acknowledgement after a lost worker, the sweep) sends once: a short
    transaction claims the message for ``lease``, the gateway is called with no transaction open (a slow
    SMSC holds no lock), and another short transaction records the answer.
    """
    # SKIP LOCKED: a row another worker is claiming this instant is its, not ours to wait for.
    message = session.scalar(select(SmsMessage).where(SmsMessage.id == message_id)
                             .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if message is None or message.status != "queued" or (message.claimed_until or now) > now:
        status = message.status if message else session.scalar(select(SmsMessage.status)
                                                                .where(SmsMessage.id == message_id))
        session.rollback()
        return status or "missing"
    message.attempts += 1
    message.claimed_until = now + lease
    to, text, attempts = message.to, message.text, message.attempts
    signed = message.sender or sender
    session.commit()
    try:
        provider_id = gateway.send(to, text, sender=signed)
    except SmsSendError as err:
        status = _record(session, message_id, "failed" if attempts >= max_attempts else "queued", now,
                         error=str(err))
        if status == "queued":
            raise
        return status
    return _record(session, message_id, "sent", now, provider_id=provider_id)


def _record(session: Session, message_id: int, status: str, now: datetime, *, error: str | None = None,
            provider_id: str | None = None) -> str:
    """The gateway's answer, in its own short transaction; the claim ends with it."""
    message = session.get(SmsMessage, message_id, with_for_update=True, populate_existing=True)
    if message.status != "queued":  # a slow answer after someone else's (a claim that ran out): theirs stands
        status = message.status
        session.rollback()
        return status
    message.status, message.claimed_until, message.error = status, None, error[:300] if error else None
    if status == "sent":
        message.provider_id, message.sent_at = provider_id, now
    session.commit()
    return status


def stuck_ids(session: Session, *, older_than: datetime, now: datetime) -> list[int]:
    """Messages still queued since before ``older_than`` and not claimed by a worker at ``now`` (their job was
    lost with a killed worker or a broker outage): the beat's sweep hands them to delivery again."""
    return list(session.scalars(select(SmsMessage.id).where(
        SmsMessage.status == "queued", SmsMessage.created_at < older_than,
        or_(SmsMessage.claimed_until.is_(None), SmsMessage.claimed_until <= now)).order_by(SmsMessage.id)))


# --- through the SMSC (SMPP): the `flask sms smpp` process (portal/sms/smpp_process.py) --------------------------
# A message goes out as one or more parts; each accepted part (submit_sm_resp) gets an SmsPart with the SMSC's id;
# when every part is accepted the message is sent; the parts' delivery receipts then settle it.

FINAL_STATES = ("delivered", "failed", "expired")


@dataclass(frozen=True)
class Claimed:
    """A message the SMPP process took for a lease, and which of its parts the SMSC has accepted already."""

    id: int
    to: str
    text: str
    sender: str | None
    attempts: int
    accepted: frozenset[int]


def claim_queued(session: Session, *, now: datetime, lease: timedelta, limit: int,
                 exclude: frozenset[int] = frozenset()) -> list[Claimed]:
    """Up to ``limit`` queued messages nobody holds, oldest first, claimed for ``lease`` in one short transaction
    (no lock is held once it returns: the SMSC is called after the commit)."""
    stmt = (select(SmsMessage).where(SmsMessage.status == "queued",
                                     or_(SmsMessage.claimed_until.is_(None), SmsMessage.claimed_until <= now))
            .order_by(SmsMessage.id).limit(limit).with_for_update(skip_locked=True)
            .execution_options(populate_existing=True))
    if exclude:
        stmt = stmt.where(SmsMessage.id.not_in(exclude))
    messages = list(session.scalars(stmt))
    accepted: dict[int, set[int]] = {}
    if messages:
        for message_id, part_no in session.execute(select(SmsPart.message_id, SmsPart.part_no).where(
                SmsPart.message_id.in_([m.id for m in messages]))):
            accepted.setdefault(message_id, set()).add(part_no)
    claimed = []
    for message in messages:
        message.attempts += 1
        message.claimed_until = now + lease
        claimed.append(Claimed(message.id, message.to, message.text, message.sender, message.attempts,
                               frozenset(accepted.get(message.id, ()))))
    session.commit()
    return claimed


def record_part(session: Session, message_id: int, part_no: int, parts: int | None, smsc_id: str, *,
                now: datetime) -> str:
    """The SMSC accepted part ``part_no`` of ``parts`` under ``smsc_id`` (submit_sm_resp); return the message's
    status. Idempotent: a part recorded already keeps its first id. A receipt that came first is applied now.
    ``parts`` None: the message was let go meanwhile; the part is kept, the message stays as it is."""
    return record_parts(session, [(message_id, part_no, parts, smsc_id)], now=now)[0]


def record_parts(session: Session, accepted: list[tuple[int, int, int | None, str]], *, now: datetime) -> list[str]:
    """``record_part`` for each (message id, part number, parts, SMSC id), in one transaction (the answers the
    SMSC sent together); the statuses in the same order."""
    statuses = []
    for message_id, part_no, parts, smsc_id in accepted:
        message = session.get(SmsMessage, message_id, with_for_update=True, populate_existing=True)
        if message is None:
            statuses.append("missing")
            continue
        exists = session.scalar(select(SmsPart.id).where(SmsPart.message_id == message_id,
                                                         SmsPart.part_no == part_no))
        if exists is None:
            part = SmsPart(message_id=message_id, part_no=part_no, smsc_id=smsc_id, submitted_at=now)
            session.add(part)
            early = session.get(SmsReceipt, smsc_id)
            if early is not None:  # the receipt came first: the part takes it, the note has served
                if early.state:
                    part.state, part.stat, part.done_at = early.state, early.stat, early.received_at
                session.delete(early)
            session.flush()
        statuses.append(_settle(session, message, parts, now))
    session.commit()
    return statuses


def settle_sent(session: Session, message_id: int, *, parts: int, now: datetime) -> str:
    """A message whose ``parts`` were all accepted on earlier attempts: sent (and settled by its receipts)."""
    message = session.get(SmsMessage, message_id, with_for_update=True, populate_existing=True)
    status = _settle(session, message, parts, now)
    session.commit()
    return status


def release(session: Session, message_id: int, *, now: datetime, error: str, permanent: bool,
            retry_at: datetime | None, max_attempts: int, throttled: bool = False) -> str:
    """A part was refused or its answer lost: the message fails (a permanent error, or out of attempts) or goes
    back to the queue, not to be taken again before ``retry_at`` (None: at once). Parts accepted already stay
    and are not sent again. The SMSC's "too fast" (``throttled``) is not the message's fault: it costs no
    attempt. Returns the message's status."""
    message = session.get(SmsMessage, message_id, with_for_update=True, populate_existing=True)
    if message is None or message.status != "queued":
        status = message.status if message else "missing"
        session.rollback()
        return status
    message.error = error[:300]
    if throttled:
        message.attempts -= 1
    if permanent or message.attempts >= max_attempts:
        message.status, message.claimed_until, message.done_at = "failed", None, now
    else:
        message.claimed_until = retry_at
    status = message.status
    session.commit()
    return status


def apply_receipt(session: Session, smsc_id: str, state: str | None, stat: str | None, *, now: datetime) -> str:
    """A delivery receipt for the part the SMSC knows as ``smsc_id``. Returns ``applied`` (a part took the state),
    ``kept`` (no part has the id yet: kept for its submit_sm_resp), ``repeat`` (the part is settled, or the
    receipt came already: nothing changes) or ``interim`` (ENROUTE, ACCEPTD: not a final state)."""
    return apply_receipts(session, [(smsc_id, state, stat)], now=now)[0]


def apply_receipts(session: Session, receipts: list[tuple[str, str | None, str | None]], *,
                   now: datetime) -> list[str]:
    """``apply_receipt`` for each (SMSC id, state, stat), in one transaction; the outcomes in the same order. If
    it fails (another process stored the same receipt this instant, the database is gone) nothing is stored and
    the SMSC, told to try again, sends the receipts again."""
    outcomes = [_apply_receipt(session, *receipt, now=now) for receipt in receipts]
    session.commit()
    return outcomes


def _apply_receipt(session: Session, smsc_id: str, state: str | None, stat: str | None, *, now: datetime) -> str:
    latest = select(SmsPart).where(SmsPart.smsc_id == smsc_id).order_by(SmsPart.id.desc()).limit(1)
    part = session.scalar(latest)
    if part is not None:
        # The message's lock first, as record_parts takes it: the part changes only under it.
        message = session.get(SmsMessage, part.message_id, with_for_update=True, populate_existing=True)
        part = session.scalar(latest.execution_options(populate_existing=True))
        if part.state in FINAL_STATES:
            return "repeat"
        if not state:
            return "interim"
        part.state, part.stat, part.done_at = state, stat, now
        session.flush()
        _settle(session, message, None, now)
        return "applied"
    # No part has the id yet: kept for its submit_sm_resp (record_parts applies it and deletes the note).
    seen = session.get(SmsReceipt, smsc_id, with_for_update=True)
    if seen is not None and (seen.state or not state):
        return "repeat"
    if seen is None:
        session.add(SmsReceipt(smsc_id=smsc_id, state=state, stat=stat, received_at=now))
    else:  # an interim receipt, then the final one
        seen.state, seen.stat, seen.received_at = state, stat, now
    session.flush()
    return "kept" if state else "interim"


def prune_receipts(session: Session, *, older_than: datetime) -> int:
    """Receipts kept for a part that never came (an id the portal did not send, a lost answer): gone after a
    while. Returns how many."""
    gone = session.execute(delete(SmsReceipt).where(SmsReceipt.received_at < older_than)).rowcount
    session.commit()
    return gone


def _settle(session: Session, message: SmsMessage, parts: int | None, now: datetime) -> str:
    """The message's status from its parts: sent once all ``parts`` are accepted (None: they are, it was sent);
    then failed if a part failed, else expired if one expired, else delivered when all are."""
    rows = session.execute(select(SmsPart.part_no, SmsPart.smsc_id, SmsPart.state, SmsPart.done_at)
                           .where(SmsPart.message_id == message.id).order_by(SmsPart.part_no)).all()
    if message.status == "queued":
        if parts is None or len(rows) < parts:
            return message.status
        message.status, message.sent_at, message.claimed_until, message.error = "sent", now, None, None
        message.provider_id = rows[0].smsc_id
    if message.status != "sent":  # settled already (or failed at the submit): that stands
        return message.status
    states = {row.state for row in rows}
    for state in ("failed", "expired"):
        if state in states:
            message.status = state
            message.done_at = max(row.done_at for row in rows if row.state == state)
            return message.status
    if states == {"delivered"}:
        message.status, message.done_at = "delivered", max(row.done_at for row in rows)
    return message.status
