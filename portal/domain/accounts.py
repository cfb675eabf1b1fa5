"""What a login may see and act on."""
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from portal.domain.errors import NotFound
from portal.models import Account, Login, LoginAccount


def account_of_login(session: Session, *, login_id: int, account_id: int) -> Account:
    """The account if this login manages it; NotFound otherwise (the same for foreign and missing)."""
    account = session.scalar(
        select(Account)
        .join(LoginAccount, LoginAccount.account_id == Account.id)
        .where(LoginAccount.login_id == login_id, Account.id == account_id)
        .options(joinedload(Account.customer), joinedload(Account.line), joinedload(Account.tariff),
                 joinedload(Account.home_contract))
    )
    if account is None:
        raise NotFound("account")
    return account


@cache
def _accounts_of_login_statement():
    """Built once: every customer's page runs it (the switcher and the account in focus)."""
    return (select(Account)
            .join(LoginAccount, LoginAccount.account_id == Account.id)
            .join(Login, Login.id == LoginAccount.login_id)
            .where(LoginAccount.login_id == bindparam("login_id"))
            .order_by((Account.id != Login.primary_account_id), LoginAccount.created_at, Account.id)
            .options(joinedload(Account.customer), joinedload(Account.line), joinedload(Account.tariff),
                     joinedload(Account.home_contract)))


def accounts_of_login(session: Session, login_id: int) -> list[Account]:
    """Every account this login manages, the primary one first, then in the order they were added."""
    return list(session.scalars(_accounts_of_login_statement(), {"login_id": login_id}))


# FOR NO KEY UPDATE: a change of balance or status never touches the key, so rows that merely refer to the
# account (an audit event, a session, an alert) are still written meanwhile (PostgreSQL takes a key-share
# lock for them). Signing in never waits for a top-up or the billing run.
ACCOUNT_LOCK = {"key_share": True}


def lock_account(session: Session, account_id: int, **options) -> Account | None:
    """Lock one account's row for a change of its balance or state (fresh from the database)."""
    return session.get(Account, account_id, with_for_update=ACCOUNT_LOCK, populate_existing=True, **options)


def lock_accounts(session: Session, *account_ids: int) -> dict[int, Account]:
    """Lock the accounts' rows in id order, before anything else is written.

    The order stops two opposite changes from deadlocking.
    """
    return {i: lock_account(session, i) for i in sorted(set(account_ids))}
