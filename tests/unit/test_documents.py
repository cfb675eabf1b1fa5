"""Monthly documents from the ledger: every figure reconciles with it to the kopeck."""
import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import documents
from portal.domain.documents import ACT, INVOICE, STATEMENT
from portal.domain.errors import NotFound
from portal.domain.history import local_midnight_in_utc
from portal.models import Account, LedgerEntry
from tests import factories

TZ = "Europe/Moscow"
TODAY = date(2026, 12, 7)
KINDS = ("tariff_fee", "service_fee", "usage", "card_topup", "voucher", "transfer_out", "transfer_in", "adjustment",
         "promised_credit", "promised_repay")


def random_ledger(session, account, seed: int, entries: int = 300) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    total = 0
    for _ in range(entries):
        kind = rng.choice(KINDS)
        amount = rng.randrange(1, 200000) * (-1 if kind in ("tariff_fee", "service_fee", "usage", "transfer_out",
                                                            "promised_repay") else 1)
        moment = start + timedelta(minutes=rng.randrange(0, 340 * 24 * 60))  # up to early December
        session.add(LedgerEntry(account_id=account.id, amount=amount, kind=kind, created_at=moment,
                                description=rng.choice(("Monthly fee", "Top-up", "Calls", "Антивирус"))))
        total += amount
    account.balance += total
    session.commit()


def ledger_sum(session, account_id, start, end, kinds=None):
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account_id, LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
    if kinds:
        query = query.where(LedgerEntry.kind.in_(kinds))
    return session.scalar(query)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_lines_statements_chain_month_to_month_and_end_at_the_balance(db_session, seed):
    account = factories.make_line(db_session, balance=0)
    random_ledger(db_session, account, seed)
    months = documents.months_available(db_session, account, today=TODAY, tz=TZ)
    assert months[0] == date(2026, 12, 1) and months[-1] == date(2026, 1, 1)
    statements = [documents.build(db_session, account, STATEMENT, month, today=TODAY, tz=TZ)
                  for month in reversed(months)]
    assert statements[0].opening == 0
    for earlier, later in zip(statements, statements[1:]):
        assert earlier.closing == later.opening
    for doc in statements:
        assert doc.closing == doc.opening + doc.paid - doc.charged
        assert doc.total == sum(line.amount for line in doc.lines) == doc.paid - doc.charged
        assert sum(line.count for line in doc.lines) == db_session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                                                  *_month(doc.month)))
    assert statements[-1].closing == db_session.get(Account, account.id).balance
    assert [doc.complete for doc in statements] == [True] * 11 + [False]


def _bounds(month):
    return local_midnight_in_utc(month, TZ), local_midnight_in_utc(documents.next_month(month), TZ)


def _month(month):
    start, end = _bounds(month)
    return LedgerEntry.created_at >= start, LedgerEntry.created_at < end


@pytest.mark.parametrize("seed", [4, 5])
def test_a_contracts_act_and_invoice_sum_the_months_services_and_fees(db_session, seed):
    account = factories.make_home_contract(db_session, balance=0)
    random_ledger(db_session, account, seed)
    for month in documents.months_available(db_session, account, today=TODAY, tz=TZ)[1:]:
        start, end = _bounds(month)
        act = documents.build(db_session, account, ACT, month, today=TODAY, tz=TZ)
        invoice = documents.build(db_session, account, INVOICE, month, today=TODAY, tz=TZ)
        assert act.total == -ledger_sum(db_session, account.id, start, end, documents.RENDERED)
        assert invoice.total == -ledger_sum(db_session, account.id, start, end, documents.FEES)
        assert sum(line.amount for line in act.lines) == act.total
        assert invoice.due == max(0, invoice.total - max(invoice.opening, 0))
        assert act.number == f"A-HC100200-{month:%Y%m}" and invoice.number == f"I-HC100200-{month:%Y%m}"


def test_the_month_is_the_operators_so_a_late_evening_in_utc_is_the_next_month(db_session):
    account = factories.make_line(db_session, balance=0)
    # 30 November 21:30 UTC is 1 December 00:30 in Moscow.
    db_session.add(LedgerEntry(account_id=account.id, amount=5000, kind="card_topup",
                               created_at=datetime(2026, 11, 30, 21, 30), description="Top-up"))
    db_session.commit()
    november = documents.build(db_session, account, STATEMENT, date(2026, 11, 1), today=TODAY, tz=TZ)
    december = documents.build(db_session, account, STATEMENT, date(2026, 12, 1), today=TODAY, tz=TZ)
    assert (november.paid, december.paid, december.closing) == (0, 5000, 5000)


def test_lines_are_grouped_by_what_the_customer_reads(db_session):
    account = factories.make_line(db_session, balance=0)
    for amount in (100, 250):
        db_session.add(LedgerEntry(account_id=account.id, amount=-amount, kind="service_fee",
                                   created_at=datetime(2026, 11, 10), description="Daily fee: Blacklist"))
    db_session.commit()
    doc = documents.build(db_session, account, STATEMENT, date(2026, 11, 1), today=TODAY, tz=TZ)
    assert [(line.text, line.amount, line.count) for line in doc.lines] == [("Daily fee: Blacklist", -350, 2)]


@pytest.mark.parametrize("kind, month", [(ACT, date(2026, 12, 1)), (ACT, date(2027, 1, 1)),
                                         (STATEMENT, date(2026, 11, 1)), ("bill", date(2026, 11, 1))])
def test_what_a_contract_does_not_have_is_not_found(db_session, kind, month):
    account = factories.make_home_contract(db_session, balance=100)
    db_session.commit()
    with pytest.raises(NotFound):
        documents.build(db_session, account, kind, month, today=TODAY, tz=TZ)


def test_a_line_has_statements_only(db_session):
    account = factories.make_line(db_session)
    db_session.commit()
    assert documents.kinds_for(account) == (STATEMENT,)
    with pytest.raises(NotFound):
        documents.build(db_session, account, INVOICE, date(2026, 11, 1), today=TODAY, tz=TZ)


@pytest.mark.parametrize("value", ["2026-1", "26-11", "2026-13", "abc", "2026-11-01", ""])
def test_a_month_from_a_url_is_checked(value):
    with pytest.raises(NotFound):
        documents.parse_month(value)


def test_no_ledger_no_months(db_session):
    account = factories.make_line(db_session, balance=0)
    db_session.commit()
    assert documents.months_available(db_session, account, today=TODAY, tz=TZ) == []
