"""The SMS outbox: queue in the caller's transaction, deliver after it commits."""
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import SmsMessage
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
