"""The pay link: signed, short-lived, naming one account; what is due on it."""
import time

import pytest

from portal.domain import paylink
from portal.domain.errors import NotFound
from portal.models import AccountStatus
from tests import factories

SECRET = "test-secret"


def test_a_link_names_its_account_and_nothing_else_opens_it():
    token = paylink.make_token(42, secret=SECRET)
    assert paylink.account_of(token, secret=SECRET, max_age_s=60) == 42
    with pytest.raises(paylink.LinkDamaged):
        paylink.account_of(token, secret="another secret", max_age_s=60)
    with pytest.raises(paylink.LinkDamaged):
        paylink.account_of(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), secret=SECRET, max_age_s=60)
    with pytest.raises(paylink.LinkDamaged):
        paylink.account_of("not-a-link", secret=SECRET, max_age_s=60)


def test_an_old_link_is_expired():
    token = paylink.make_token(42, secret=SECRET)
    time.sleep(1.1)
    with pytest.raises(paylink.LinkExpired):
        paylink.account_of(token, secret=SECRET, max_age_s=0)


@pytest.mark.parametrize(("balance", "charge", "due"), [(100000, 95000, 0), (93600, 95000, 1400),
                                                         (-5050, 95000, 100100), (0, 0, 0), (-1, 0, 100)])
def test_the_amount_due_brings_the_balance_to_the_next_charge_in_whole_roubles(balance, charge, due):
    assert paylink.amount_due(balance, charge) == due


def test_what_is_due_on_a_line(db_session):
    tariff = factories.make_tariff(db_session, monthly_fee=95000)
    line = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=-2000)
    factories.make_subscription(db_session, line, factories.make_service(db_session, monthly_fee=3000))
    line.status = AccountStatus.suspended.value
    db_session.commit()
    due = paylink.due_of(db_session, line.id)
    assert (due.masked, due.due, due.suspended) == ("+7 916 ***-**-67", 100000, True)


def test_a_closed_line_or_a_home_contract_has_nothing_to_pay_through_a_link(db_session):
    line = factories.make_line(db_session, "+79161234567")
    line.status = AccountStatus.terminated.value
    home = factories.make_home_contract(db_session, "HC-100200")
    db_session.commit()
    for account in (line, home):
        with pytest.raises(NotFound):
            paylink.due_of(db_session, account.id)
