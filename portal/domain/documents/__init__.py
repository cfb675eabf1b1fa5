"""Monthly documents built from the ledger: a statement for a mobile line; an invoice (счёт) and an act of
services rendered (акт) for a home contract.

A document is one calendar month of one account's ledger in the operator's time zone. Every figure on it is a
sum of ledger entries, so the documents reconcile with the ledger to the kopeck: the opening balance is the
sum of everything before the month, the closing balance the opening plus every entry of the month, and it is
the next month's opening. The lines group the month's entries by what the customer reads on them.
"""
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import statement
from portal.domain.details import line_label
from portal.domain.errors import NotFound
from portal.domain.history import local_midnight_in_utc
from portal.models import Account, LedgerEntry

STATEMENT, INVOICE, ACT = "statement", "invoice", "act"
TITLES = {STATEMENT: _l("Statement"), INVOICE: _l("Invoice"), ACT: _l("Act of services rendered")}
PREFIXES = {STATEMENT: "S", INVOICE: "I", ACT: "A"}
# What an act lists (the services rendered in the month) and an invoice bills (the month's fees).
RENDERED = ("tariff_fee", "service_fee", "usage")
FEES = ("tariff_fee", "service_fee")
MONTHS_SHOWN = 12


def kinds_for(account: Account) -> tuple[str, ...]:
    """The documents an account has each month: a home contract's invoice and act, a line's statement."""
    return (INVOICE, ACT) if account.home_contract is not None else (STATEMENT,)


@dataclass(frozen=True)
class Line:
    text: str  # in the reader's language
    amount: int  # kopecks: signed on a statement (+ paid in, − charged), positive charges on an invoice or act
    count: int = 1  # entries summed into it


@dataclass(frozen=True)
class MonthDocument:
    kind: str
    number: str  # e.g. A-HC100200-202611: kind, account, month
    month: date  # its first day
    complete: bool  # the month is over (else the figures are so far)
    account_label: str  # the number or the contract, as the customer knows it
    holder: str
    opening: int  # the balance when the month began
    lines: list[Line]
    charged: int  # the month's charges (positive)
    paid: int  # the month's payments in
    closing: int  # the balance when the month ended (or now)
    total: int  # what the document sums: the statement's movement, the act's services, the invoice's fees
    due: int  # the invoice's amount to pay: its fees less what the opening balance covered (else 0)

    @property
    def title(self) -> str:
        return str(TITLES[self.kind])


def month_start(month: date) -> date:
    return month.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_month(value: str) -> date:
    """"2026-11" → 1 November 2026; NotFound for anything else (it comes from a URL)."""
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise NotFound("month") from None


def months_available(session: Session, account: Account, *, today: date, tz: str) -> list[date]:
    """The months (newest first, at most MONTHS_SHOWN) from the account's first ledger entry to this one."""
    first = session.scalar(select(func.min(LedgerEntry.created_at)).where(LedgerEntry.account_id == account.id))
    if first is None:
        return []
    months, month = [], month_start(today)
    while len(months) < MONTHS_SHOWN and local_midnight_in_utc(next_month(month), tz) > first:
        months.append(month)
        month = month_start(month - timedelta(days=1))
    return months


def build(session: Session, account: Account, kind: str, month: date, *, today: date, tz: str) -> MonthDocument:
    """The document ``kind`` of ``account`` for ``month`` (in time zone ``tz``). NotFound for a kind the account
    does not have, a month to come, or an act of a month not over yet."""
    month = month_start(month)
    complete = next_month(month) <= today
    if kind not in kinds_for(account) or month > today or (kind == ACT and not complete):
        raise NotFound("document")
    start, end = local_midnight_in_utc(month, tz), local_midnight_in_utc(next_month(month), tz)
    opening = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at < start))
    entries = session.execute(
        select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.description, LedgerEntry.params)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)).all()
    charged = -sum(amount for _, amount, _, _ in entries if amount < 0)
    paid = sum(amount for _, amount, _, _ in entries if amount > 0)
    if kind == STATEMENT:
        lines = _grouped(entries, sign=1)
    else:
        listed = RENDERED if kind == ACT else FEES
        lines = _grouped([e for e in entries if e[0] in listed], sign=-1)
    total = sum(line.amount for line in lines)
    due = max(0, total - max(opening, 0)) if kind == INVOICE else 0
    return MonthDocument(kind=kind, number=document_number(account, kind, month), month=month, complete=complete,
                         account_label=line_label(account), holder=account.customer.name, opening=opening,
                         lines=lines, charged=charged, paid=paid, closing=opening + paid - charged, total=total,
                         due=due)


def _grouped(entries, *, sign: int) -> list[Line]:
    """The entries summed by the text the customer reads (in order of first appearance); ``sign`` −1 shows
    charges as positive amounts."""
    sums: OrderedDict[str, list[int]] = OrderedDict()
    for _kind, amount, description, params in entries:
        text = statement.text_of(params, description)
        total = sums.setdefault(text, [0, 0])
        total[0] += sign * amount
        total[1] += 1
    return [Line(text, amount, count) for text, (amount, count) in sums.items()]


def document_number(account: Account, kind: str, month: date) -> str:
    who = account.home_contract.contract_no if account.home_contract is not None else \
        (account.line.msisdn.lstrip("+") if account.line is not None else str(account.id))
    return f"{PREFIXES[kind]}-{who.replace('-', '')}-{month:%Y%m}"


def issued_at(document: MonthDocument, *, now: datetime) -> date:
    """The date printed on the document: the first day after its month, or today while the month goes on."""
    return next_month(document.month) if document.complete else now.date()
