from portal.domain.overview import account_overview
from portal.models import utcnow
from tests import factories


def test_the_next_charge_adds_tariff_and_active_service_fees(db_session):
    account = factories.make_line(db_session, tariff=factories.make_tariff(db_session, monthly_fee=40000),
                                  balance=50000)
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=5000))
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=7000),
                                status="ended")
    overview = account_overview(db_session, account, tariff_fee=40000, now=utcnow())
    assert overview.next_charge == 45000
    assert not overview.low_balance(45000) and overview.low_balance(44999)


def test_no_allowance_outside_its_period(db_session):
    from datetime import timedelta

    account = factories.make_line(db_session)
    factories.make_allowance(db_session, account, now=utcnow() - timedelta(days=40))
    assert account_overview(db_session, account, tariff_fee=0, now=utcnow()).allowance is None


def test_a_line_without_bonus_account_has_zero_points(db_session):
    assert account_overview(db_session, factories.make_line(db_session), tariff_fee=0, now=utcnow()).bonus_points == 0
