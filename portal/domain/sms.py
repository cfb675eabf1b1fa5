"""The SMS outbox: queue in the caller's transaction, deliver after it commits."""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import SmsMessage
from portal.sms import SmsGateway, SmsSendError

# Ids of messages queued in this transaction; an after_commit hook (portal.jobs)
# hands them to the delivery task, so nothing is sent for a rolled-back change.
PENDING_KEY = "sms_pending"


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
                max_attempts: int) -> str:
    """Send one queued message; return its new status. Raises SmsSendError when a retry may help."""
    message = session.get(SmsMessage, message_id, with_for_update=True)
    if message is None or message.status != "queued":
        session.rollback()
        return message.status if message else "missing"
    message.attempts += 1
    try:
        message.provider_id = gateway.send(message.to, message.text, sender=message.sender or sender)
    except SmsSendError as err:
        message.error = str(err)[:300]
        if message.attempts >= max_attempts:
            message.status = "failed"
            session.commit()
            return message.status
        session.commit()
        raise
    message.status = "sent"
    message.sent_at = now
    message.error = None
    session.commit()
    return message.status
