"""The ledger: every money movement is an entry; an account's balance is their sum."""
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import alerts, statement
from portal.domain.receipts import codes
from portal.models import Account, LedgerEntry


def post(session: Session, account: Account, *, amount: int, kind: str, key: str | None, description,
         now: datetime, related_entry_id: int | None = None, dated: datetime | None = None,
         payment_alert: bool = True, coded: bool | None = None) -> LedgerEntry:
    """Add an entry and move the cached balance with it. The caller holds the account's row lock.

    ``dated`` stamps the entry with the moment it belongs to when that is not ``now`` (a billed day).
    ``payment_alert=False``: the caller moves more money first (a promised payment repaid from it)
    and sends the "payment received" alert itself, with the balance after it all.
    ``coded``: whether the entry gets an operation code; by default the kinds a customer makes
    (``receipts.codes.CODED_KINDS``), and a customer's own tariff change or service asks for one.
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("ledger amounts are integer kopecks")
    entry = LedgerEntry(account_id=account.id, amount=amount, kind=kind, idempotency_key=key,
                        description=statement.in_operator_language(description)[:200],
                        params=statement.params_of(description), created_at=dated or now,
                        related_entry_id=related_entry_id,
                        code=codes.new_code(session) if (kind in codes.CODED_KINDS if coded is None else coded)
                        else None)
    session.add(entry)
    before = account.balance
    account.balance += amount
    alerts.balance_moved(session, account=account, before=before, after=account.balance, now=now)
    if kind in alerts.PAYMENT_KINDS and payment_alert:
        alert_payment(session, account, amount=amount, repaid=0, now=now, code=entry.code)
    return entry


def alert_payment(session: Session, account: Account, *, amount: int, repaid: int, now: datetime,
                  code: str | None = None) -> None:
    """The "payment received" alert with the balance as it is now, saying what repaid a promised payment, and the
    operation's code (to find it again, or to read out to the operator's support).

    The amounts are formatted when the alert is written, in its reader's language."""
    if code:
        _alert_coded_payment(session, account, amount=amount, repaid=repaid, now=now, code=codes.grouped(code))
    elif repaid:
        alerts.notify(session, account=account, event="payment", now=now, amount=partial(formatting.money, amount),
                      repaid=partial(formatting.money, repaid), balance=partial(formatting.money, account.balance),
                      message=_l("%(amount)s received, %(repaid)s of them repaid the promised payment; "
                                 "the balance is %(balance)s."))
    else:
        alerts.notify(session, account=account, event="payment", now=now, amount=partial(formatting.money, amount),
                      balance=partial(formatting.money, account.balance),
                      message=_l("%(amount)s received, the balance is %(balance)s."))


def _alert_coded_payment(session: Session, account: Account, *, amount: int, repaid: int, now: datetime,
                         code: str) -> None:
    money = dict(amount=partial(formatting.money, amount), balance=partial(formatting.money, account.balance))
    if repaid:
        alerts.notify(session, account=account, event="payment", now=now, repaid=partial(formatting.money, repaid),
                      code=code, message=_l("%(amount)s received, %(repaid)s of them repaid the promised payment; "
                                            "the balance is %(balance)s. Operation %(code)s."), **money)
    else:
        alerts.notify(session, account=account, event="payment", now=now, code=code,
                      message=_l("%(amount)s received, the balance is %(balance)s. Operation %(code)s."), **money)


@dataclass(frozen=True)
class Mismatch:
    account_id: int
    balance: int
    entries_sum: int


def verify(session: Session) -> list[Mismatch]:
    """Accounts whose balance is not the sum of their ledger entries (there should be none)."""
    sums = (select(LedgerEntry.account_id, func.coalesce(func.sum(LedgerEntry.amount), 0).label("total"))
            .group_by(LedgerEntry.account_id).subquery())
    rows = session.execute(
        select(Account.id, Account.balance, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance != func.coalesce(sums.c.total, 0))
        .order_by(Account.id)
    ).all()
    return [Mismatch(*row) for row in rows]
