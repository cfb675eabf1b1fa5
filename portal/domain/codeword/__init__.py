"""The code word for calls to support (issue 18, point 3, its first part): the customer sets it in the personal
account; only a hash is kept; staff ask the caller for it and check the answer, never reading it. Checks are
audited with their outcome and limited per customer, so a caller cannot have staff guess for them.
"""
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.domain import alerts
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError
from portal.domain.passwords import check_secret, hash_secret
from portal.models import Account, AuditEvent, CodeWord

MIN_LENGTH, MAX_LENGTH = 4, 40
CHECKS_PER_HOUR = 5


class CodeWordRefused(DomainError):
    field = "word"


class TooManyChecks(DomainError):
    status = 429
    field = "answer"


def _normal(word: str | None) -> str:
    """What is compared: case and spacing do not matter on the phone."""
    return " ".join((word or "").split()).casefold()


def set_at(session: Session, customer_id: int) -> datetime | None:
    return session.scalar(select(CodeWord.set_at).where(CodeWord.customer_id == customer_id))


def set_word(session: Session, *, account: Account, word: str, actor: Actor, now: datetime) -> None:
    """Set or change the code word of the account's customer; the owner's number is told by SMS."""
    normal = _normal(word)
    if not MIN_LENGTH <= len(normal) <= MAX_LENGTH:
        raise CodeWordRefused(_l("From %(min)s to %(max)s characters.", min=MIN_LENGTH, max=MAX_LENGTH))
    row = session.get(CodeWord, account.customer_id)
    if row is None:
        session.add(CodeWord(customer_id=account.customer_id, word_hash=hash_secret(normal), set_at=now))
    else:
        row.word_hash, row.set_at = hash_secret(normal), now
    record(session, actor, "code_word_set", obj=account, detail=f"customer {account.customer_id}")
    alerts.notify(session, account=account, event=alerts.SECURITY, now=now,
                  message=_l("the code word for calls to support was set or changed. If it was not you, call "
                             "%(support)s."))
    session.commit()


def remove_word(session: Session, *, account: Account, actor: Actor, now: datetime) -> bool:
    if session.execute(delete(CodeWord).where(CodeWord.customer_id == account.customer_id)).rowcount == 0:
        session.rollback()
        return False
    record(session, actor, "code_word_removed", obj=account, detail=f"customer {account.customer_id}")
    alerts.notify(session, account=account, event=alerts.SECURITY, now=now,
                  message=_l("the code word for calls to support was removed. If it was not you, call %(support)s."))
    session.commit()
    return True


def check_answer(session: Session, *, customer_id: int, answer: str, actor: Actor, now: datetime) -> bool:
    """Whether the caller's answer is the code word (staff see only this); at most CHECKS_PER_HOUR an hour."""
    recent = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "code_word_checked", AuditEvent.object_type == "customer",
        AuditEvent.object_id == str(customer_id), AuditEvent.created_at > now - timedelta(hours=1)))
    if recent >= CHECKS_PER_HOUR:
        raise TooManyChecks(_l("Too many checks this hour: ask the caller to prove who they are another way."))
    row = session.get(CodeWord, customer_id)
    matches = row is not None and check_secret(row.word_hash, _normal(answer))
    record(session, actor, "code_word_checked", object_type="customer", object_id=str(customer_id),
           detail="matches" if matches else "does not match")
    session.commit()
    return matches
