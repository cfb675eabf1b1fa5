import pytest

from portal.domain import ledger
from portal.domain.money import BadAmount, parse_rubles
from portal.models import utcnow
from tests import factories


@pytest.mark.parametrize("typed, kopecks", [("500", 50000), ("500.5", 50050), ("500,50", 50050), ("1 500", 150000),
                                            ("0.01", 1), ("15000 ₽", 1500000), ("999999999.99", 99999999999)])
def test_roubles_become_integer_kopecks(typed, kopecks):
    result = parse_rubles(typed)
    assert result == kopecks and isinstance(result, int)


@pytest.mark.parametrize("typed", ["", "-1", "1.234", "1e3", "abc", "nan", "inf", "1,2,3", "0x10", "1" * 12])
def test_anything_else_is_refused(typed):
    with pytest.raises(BadAmount):
        parse_rubles(typed)


def test_ledger_amounts_are_integers(db_session):
    account = factories.make_line(db_session, balance=0)
    with pytest.raises(TypeError):
        ledger.post(db_session, account, amount=1.5, kind="adjustment", key=None, description="", now=utcnow())


def test_verify_finds_a_balance_that_does_not_add_up(db_session):
    good = factories.make_line(db_session, "+79161234567", balance=500)
    bad = factories.make_line(db_session, "+79161234568", balance=700)
    ledger.post(db_session, good, amount=-200, kind="usage", key=None, description="", now=utcnow())
    bad.balance = 1
    db_session.commit()
    assert [(m.account_id, m.balance, m.entries_sum) for m in ledger.verify(db_session)] == [(bad.id, 1, 700)]
