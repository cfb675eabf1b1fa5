from datetime import date

import pytest

from portal.domain import ledger
from portal.domain.money import BadAmount, parse_rubles
from portal.domain.payments import BadCard, luhn_ok, parse_card
from portal.models import utcnow
from portal.payment_gateway.test_mode import DECLINED, NEEDS_3DS, SUCCEEDS, TestModeGateway
from tests import factories

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize("typed, kopecks", [("500", 50000), ("500.5", 50050), ("500,50", 50050), ("1 500", 150000),
                                            ("0.01", 1), ("15000 ₽", 1500000), ("999999999.99", 99999999999)])
def test_roubles_become_integer_kopecks(typed, kopecks):
    result = parse_rubles(typed)
    assert result == kopecks and isinstance(result, int)


@pytest.mark.parametrize("typed", ["", "-1", "1.234", "1e3", "abc", "nan", "inf", "1,2,3", "0x10", "1" * 12])
def test_anything_else_is_refused(typed):
    with pytest.raises(BadAmount):
        parse_rubles(typed)


def test_luhn():
    assert luhn_ok(SUCCEEDS) and luhn_ok(DECLINED) and luhn_ok(NEEDS_3DS)
    assert not luhn_ok("4242424242424241")


def test_a_card_never_shows_its_number():
    card = parse_card("4242 4242 4242 4242", "08/30", "123", today=TODAY)
    assert SUCCEEDS not in repr(card) and "123" not in repr(card) and card.last4 == "4242"


@pytest.mark.parametrize("number, expiry, cvc, field", [
    ("4242", "08/30", "123", "card_number"),
    ("4242-4242-4242-4242x", "08/30", "123", "card_number"),
    (SUCCEEDS, "830", "123", "expiry"),  # "8/30" is read as 08/30 (tests/unit/test_payments.py)
    (SUCCEEDS, "10/26", "123", "expiry"),
    (SUCCEEDS, "08/30", "12a", "cvc"),
])
def test_bad_cards_name_the_field(number, expiry, cvc, field):
    with pytest.raises(BadCard) as err:
        parse_card(number, expiry, cvc, today=TODAY)
    assert err.value.field == field


def test_this_month_is_still_valid():
    parse_card(SUCCEEDS, "11/26", "123", today=TODAY)


def test_the_test_gateway_is_deterministic():
    gateway = TestModeGateway("k")
    card = parse_card(SUCCEEDS, "08/30", "123", today=TODAY)
    first = gateway.charge(amount=100, card=card, description="x", save_card=False)
    assert first == gateway.charge(amount=100, card=card, description="x", save_card=False)
    assert first.status == "succeeded" and first.card_token is None
    assert gateway.confirm_3ds(reference=first.reference, code="1234").status == "succeeded"
    assert gateway.confirm_3ds(reference=first.reference, code="9999").status == "declined"


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


def test_a_card_that_fails_later_saves_and_then_declines():
    from portal.payment_gateway.test_mode import FAILS_LATER

    gateway = TestModeGateway("k")
    card = parse_card(FAILS_LATER, "08/30", "123", today=TODAY)
    first = gateway.charge(amount=100, card=card, description="x", save_card=True)
    assert first.status == "succeeded" and first.card_token.endswith("_fails")
    assert gateway.charge_saved(amount=100, card_token=first.card_token, description="y").status == "declined"
    assert gateway.charge_saved(amount=100, card_token="tok_ok", description="y").status == "succeeded"
