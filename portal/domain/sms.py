"""The SMS outbox: queue in the caller's transaction, deliver after it commits."""
from datetime import datetime

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
