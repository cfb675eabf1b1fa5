from datetime import datetime

import pytest

from portal.domain import services
from portal.domain.audit import Actor
from tests import factories

MID_MONTH = datetime(2026, 11, 16)


def test_the_first_charge_is_the_connection_fee_plus_the_months_share(db_session):
    service = factories.make_service(db_session, connection_fee=3000, monthly_fee=6000)
    assert services.first_charge(service, MID_MONTH) == 3000 + 3000


def test_a_conflict_holds_in_both_directions(db_session):
    account = factories.make_line(db_session, balance=100000)
    a = factories.make_service(db_session)
    b = factories.make_service(db_session)
    a.conflicts.append(b)
    factories.make_subscription(db_session, account, a)
    db_session.commit()
    assert "cannot work together" in services.offer_for(db_session, account, b, now=MID_MONTH).refusal
    with pytest.raises(services.ServiceRefused):
        services.connect_service(db_session, account_id=account.id, service_id=b.id, idempotency_key="k" * 20,
                                 actor=Actor(), now=MID_MONTH)


def test_a_blocked_line_connects_nothing(db_session):
    account = factories.make_line(db_session, status="blocked_by_owner")
    service = factories.make_service(db_session)
    db_session.commit()
    assert "active line" in services.offer_for(db_session, account, service, now=MID_MONTH).refusal


def test_disconnecting_twice_changes_nothing_the_second_time(db_session):
    account = factories.make_line(db_session)
    subscription = factories.make_subscription(db_session, account, factories.make_service(db_session))
    db_session.commit()
    for key in ("first-key-000000000", "second-key-00000000"):
        services.disconnect_service(db_session, account_id=account.id, subscription_id=subscription.id,
                                    idempotency_key=key, actor=Actor(), now=MID_MONTH)
    db_session.refresh(subscription)
    assert subscription.status == "ended" and subscription.until == MID_MONTH


def test_the_catalog_puts_categories_in_the_house_order(db_session):
    account = factories.make_line(db_session)
    for category in ("security", "calls", "zzz-new", "internet"):
        factories.make_service(db_session, category=category)
    db_session.commit()
    assert list(services.service_catalog(db_session, account, now=MID_MONTH)) == \
        ["calls", "internet", "security", "zzz-new"]


@pytest.mark.parametrize("config_overrides", [{"BABEL_DEFAULT_LOCALE": "ru"}])
def test_charges_are_described_in_the_operators_language_like_a_statement(db_session):
    from sqlalchemy import select

    from portal.models import LedgerEntry

    account = factories.make_line(db_session, balance=100_000)
    service = factories.make_service(db_session, name="Гороскоп", connection_fee=1000, monthly_fee=0)
    db_session.commit()
    services.connect_service(db_session, account_id=account.id, service_id=service.id,
                             idempotency_key="k" * 24, actor=Actor(), now=datetime(2026, 11, 10, 12))
    assert db_session.scalars(select(LedgerEntry.description).where(LedgerEntry.kind == "service_fee")).all() == \
        ["Подключение: Гороскоп"]
