"""Voicemail: on or off, which forwarding conditions go to it, the messages left, and the PIN.

The settings, deleting a message and a new PIN are switch commands like any other; the
PIN travels in the command only until the switch has answered (provisioning scrubs it),
and reaches the customer by SMS. Listening is done by phone, so the page lists messages.
"""
import secrets
from datetime import datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import idempotency, provisioning
from portal.domain.alerts import owner_language
from portal.domain.audit import Actor, record
from portal.domain.auth import TryLater
from portal.domain.errors import DomainError, NotFound
from portal.domain.forwarding import CONDITIONS
from portal.domain.passwords import hash_secret
from portal.domain.sms import daily_quota_retry_after, queue_sms
from portal.models import Account, VoicemailBox, VoiceMessage
from portal.models.switch import SECRET_PREFIX

SUBJECT = "voicemail"
PIN_SUBJECT = "voicemail-pin"
PIN_PURPOSE = "voicemail_pin"
MESSAGES_SHOWN = 100


class VoicemailRefused(DomainError):
    field = "conditions"


def box_of(session: Session, account_id: int) -> VoicemailBox:
    """The saved settings, or the defaults of a line that never changed them (not added to the session)."""
    return session.get(VoicemailBox, account_id) or VoicemailBox(account_id=account_id, enabled=False,
                                                                  conditions="busy,no_answer,unreachable")


def conditions_of(box: VoicemailBox) -> list[str]:
    return [c for c in (box.conditions or "").split(",") if c]


def messages_of(session: Session, account_id: int) -> list[VoiceMessage]:
    return list(session.scalars(select(VoiceMessage).where(VoiceMessage.account_id == account_id)
                                .order_by(VoiceMessage.received_at.desc(), VoiceMessage.id.desc())
                                .limit(MESSAGES_SHOWN)))


def save_settings(session: Session, *, account_id: int, enabled: bool, conditions: list[str], idempotency_key: str,
                  actor: Actor, now: datetime) -> bool:
    """Voicemail on or off and for which conditions, sent to the switch; False for a repeated submission."""
    chosen = [c for c in CONDITIONS if c in set(conditions)]
    if len(chosen) != len(set(conditions)):
        raise VoicemailRefused(_l("Choose from the list."))
    if enabled and not chosen:
        raise VoicemailRefused(_l("Choose when calls go to voicemail."))
    account = idempotency.lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                        action="voicemail")
    if account is None:
        return False
    box = session.get(VoicemailBox, account.id)
    if box is None:
        box = VoicemailBox(account_id=account.id)
        session.add(box)
    box.enabled, box.conditions, box.updated_at = enabled, ",".join(chosen), now
    provisioning.queue_command(session, account, subject=SUBJECT, operation="voicemail.set",
                               params={"enabled": enabled, "conditions": chosen})
    record(session, actor, "voicemail_changed", obj=account, account_id=account.id,
           detail=f"{'on' if enabled else 'off'}: {','.join(chosen)}")
    return idempotency.commit_once(session)


def delete_messages(session: Session, *, account_id: int, message_ids: list[int], idempotency_key: str,
                    actor: Actor, now: datetime) -> bool:
    """Delete messages here and on the platform; NotFound if any is not this line's (or gone already)."""
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="voicemail_delete")
    if account is None:
        return False
    wanted = set(message_ids)
    messages = list(session.scalars(select(VoiceMessage).where(VoiceMessage.account_id == account.id,
                                                                VoiceMessage.id.in_(wanted)))) if wanted else []
    if not wanted or len(messages) != len(wanted):
        session.rollback()
        raise NotFound("message")
    for message in messages:
        provisioning.queue_command(session, account, subject=f"voicemail-message:{message.reference}",
                                   operation="voicemail.delete", params={"message": message.reference})
        session.delete(message)
    record(session, actor, "voice_messages_deleted", obj=account, account_id=account.id, detail=str(len(messages)))
    return idempotency.commit_once(session)


def reset_pin(session: Session, *, account: Account, per_day: int, brand: str, locale: str, actor: Actor,
              now: datetime) -> None:
    """A new 4-digit PIN: to the switch (scrubbed once it answers) and by SMS to the line, ``per_day`` at most."""
    if account.line is None:
        raise NotFound("line")
    msisdn = account.line.msisdn
    retry_after = daily_quota_retry_after(session, to=msisdn, purpose=PIN_PURPOSE, per_day=per_day, now=now)
    if retry_after:
        raise TryLater(_l("A new PIN was sent several times today."), retry_after)
    pin = f"{secrets.randbelow(10_000):04d}"
    box = session.get(VoicemailBox, account.id, with_for_update=True)
    if box is None:
        box = VoicemailBox(account_id=account.id)
        session.add(box)
    box.pin_hash, box.updated_at = hash_secret(pin), now
    provisioning.queue_command(session, account, subject=PIN_SUBJECT, operation="voicemail.pin",
                               params={SECRET_PREFIX + "pin": pin})
    with force_locale(owner_language(session, account.id, locale)):
        text = gettext("%(brand)s: your new voicemail PIN is %(pin)s. Do not tell it to anyone.", brand=brand,
                       pin=pin)
    queue_sms(session, to=msisdn, text=text, purpose=PIN_PURPOSE)
    record(session, actor, "voicemail_pin_reset", obj=account, account_id=account.id)
    session.commit()
