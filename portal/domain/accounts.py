"""What a login may see and act on."""
from functools import cache

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, joinedload

from portal.domain.errors import NotFound
from portal.models import Account, Customer, HomeContract, Line, Login, LoginAccount, Tariff


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


@cache
def _cards_statement():
    account, customer, tariff = Account.__table__, Customer.__table__, Tariff.__table__
    line, home, link, login = Line.__table__, HomeContract.__table__, LoginAccount.__table__, Login.__table__
    return (select(account.c.id, account.c.kind, account.c.status, account.c.region, account.c.balance,
                   customer.c.name.label("owner"),
                   line.c.msisdn, home.c.contract_no, tariff.c.name.label("tariff_name"),
                   tariff.c.name_en.label("tariff_name_en"),
                   tariff.c.monthly_fee.label("tariff_fee"), tariff.c.unlimited_data)
            .select_from(link.join(account, account.c.id == link.c.account_id)
                         .join(login, login.c.id == link.c.login_id)
                         .join(customer, customer.c.id == account.c.customer_id)
                         .outerjoin(tariff, tariff.c.id == account.c.tariff_id)
                         .outerjoin(line, line.c.account_id == account.c.id)
                         .outerjoin(home, home.c.account_id == account.c.id))
            .where(link.c.login_id == bindparam("login_id"))
            .order_by(account.c.id != login.c.primary_account_id, link.c.created_at, account.c.id))


def account_cards(session: Session, login_id: int) -> list[Row]:
    """Every account this login manages, in the order of ``accounts_of_login``, as plain rows of what the header's
    switcher and the dashboard show: id, kind, status, region, balance, owner (the customer's name), msisdn or
    contract_no, tariff_name, tariff_name_en, tariff_fee, unlimited_data (None without a tariff).

    No ORM objects: every customer's page asks for these, and the ORM's work per object costs more than the
    query."""
    return session.execute(_cards_statement(), {"login_id": login_id}).all()


@cache
def _account_statement():
    return select(Account).where(Account.id == bindparam("account_id")).options(
        joinedload(Account.customer), joinedload(Account.line), joinedload(Account.tariff),
        joinedload(Account.home_contract))


def account_with_details(session: Session, account_id: int) -> Account | None:
    """One account with its customer, line, tariff and home contract (one query)."""
    return session.scalar(_account_statement(), {"account_id": account_id})


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
