from datetime import datetime

import pytest

from portal.domain import tariffs
from portal.domain.audit import Actor
from tests import factories

MID_MONTH = datetime(2026, 11, 16)  # 15 of 30 days left


def test_the_package_for_the_rest_of_the_period_is_pro_rata(db_session):
    account = factories.make_line(db_session)
    tariff = factories.make_tariff(db_session, minutes=600, sms=300, mms=0, data_mb=20480)
    quote = tariffs.quote_switch(db_session, account, tariff, now=MID_MONTH)
    assert quote.fraction_left == pytest.approx(0.5)
    assert quote.package_now == {"minutes": 300, "sms": 150, "mms": 0, "data_mb": 10240}


def test_the_period_bounds_roll_over_the_year():
    assert tariffs.period_bounds(datetime(2026, 12, 31, 23)) == (datetime(2026, 12, 1), datetime(2027, 1, 1))


def test_change_tariff_replaces_the_current_package(db_session):
    account = factories.make_line(db_session, balance=0)
    factories.make_allowance(db_session, account, period_start=datetime(2026, 11, 1), period_end=datetime(2026, 12, 1),
                             minutes_total=100, minutes_left=3)
    tariff = factories.make_tariff(db_session, minutes=600, switch_fee=0)
    db_session.commit()
    tariffs.change_tariff(db_session, account_id=account.id, tariff_id=tariff.id, idempotency_key="k" * 20,
                          actor=Actor(), now=MID_MONTH)
    allowance = tariffs.current_allowance(db_session, account.id, MID_MONTH)
    assert allowance.minutes_total == allowance.minutes_left == 300


def test_switching_to_the_current_tariff_is_refused(db_session):
    account = factories.make_line(db_session)
    db_session.commit()
    with pytest.raises(tariffs.TariffRefused, match="already your tariff"):
        tariffs.change_tariff(db_session, account_id=account.id, tariff_id=account.tariff_id,
                              idempotency_key="k" * 20, actor=Actor(), now=MID_MONTH)


def test_the_fee_never_takes_the_balance_below_zero(db_session):
    account = factories.make_line(db_session, balance=4999)
    tariff = factories.make_tariff(db_session, switch_fee=5000)
    db_session.commit()
    with pytest.raises(tariffs.TariffRefused, match="balance is too low"):
        tariffs.change_tariff(db_session, account_id=account.id, tariff_id=tariff.id, idempotency_key="k" * 20,
                              actor=Actor(), now=MID_MONTH)
