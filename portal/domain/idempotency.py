"""Idempotency keys: one change per form submission, however often it arrives."""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError, NotFound
from portal.models import ProcessedRequest

KEY_FORMAT = re.compile(r"^[A-Za-z0-9_-]{16,80}$")


class AlreadyDone(Exception):
    """This submission was carried out before; the caller answers as if it had just succeeded."""


def claim(session: Session, key: str, *, action: str, account_id: int | None) -> None:
    """Record the key in the caller's transaction, or raise AlreadyDone if it is known."""
    if not key or not KEY_FORMAT.match(key):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    if session.scalar(select(ProcessedRequest.key).where(ProcessedRequest.key == key)):
        raise AlreadyDone(key)
    session.add(ProcessedRequest(key=key, action=action, account_id=account_id))


def commit_once(session: Session) -> bool:
    """Commit; False when a concurrent twin committed the same key first (its change stands, not ours)."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def flush_once(session: Session) -> bool:
    """Flush; False (rolled back) when a twin submission committed the same key first, as ``commit_once``."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def lock_account_for(session: Session, *, account_id: int, idempotency_key: str, action: str):
    """Lock the account row for one change and claim the submission's key.

    Returns the account, or None when this submission was carried out before.
    The row lock makes a concurrent twin wait here, then find the key.
    """
    from portal.domain.accounts import lock_account

    account = lock_account(session, account_id)
    if account is None:
        raise NotFound("account")
    try:
        claim(session, idempotency_key, action=action, account_id=account.id)
    except AlreadyDone:
        session.rollback()
        return None
    return account


def lock_line_for(session: Session, *, account_id: int, idempotency_key: str, action: str):
    """``lock_account_for`` for a change that only a mobile line has (its switch settings): NotFound otherwise."""
    account = lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key, action=action)
    if account is not None and account.line is None:
        session.rollback()
        raise NotFound("line")
    return account
