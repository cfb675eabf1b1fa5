"""Ending a contract (a line or a home contract): a staff action with a reason."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.domain import home_extras
from portal.domain.accounts import lock_accounts
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.models import AccountStatus, AutoPayment, Subscription


class CannotTerminate(DomainError):
    pass


def terminate(session: Session, *, account_id: int, reason: str, actor: Actor, now: datetime) -> None:
    """Terminate the account: services and auto-payments end; refused while it owes money."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise CannotTerminate(_l("Give the reason."), field="reason")
    account = lock_accounts(session, account_id).get(account_id)
    if account is None:
        session.rollback()
        raise NotFound("account")
    if account.status == AccountStatus.terminated.value:
        session.rollback()
        return  # already ended: a repeated submission changes nothing
    if account.balance < 0:
        session.rollback()
        raise CannotTerminate(_l("The balance is negative: the debt must be paid before the contract ends."))
    account.status = AccountStatus.terminated.value
    home_extras.release_account(session, account_id, now=now)  # the mailbox name and the address are free again
    session.execute(update(Subscription).where(Subscription.account_id == account_id, Subscription.status == "active")
                    .values(status="ended", until=now))
    session.execute(update(AutoPayment).where(AutoPayment.account_id == account_id).values(enabled=False))
    record(session, actor, "account_terminated", account_id=account_id, object_type="account",
           object_id=str(account_id), detail=reason[:200])
    session.commit()
