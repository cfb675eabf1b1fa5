"""The customer's ways in as staff see and shut them: one query, per login, only the customer's own."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import archive, feed, ways_in
from portal.domain.audit import SYSTEM, Actor
from portal.domain.errors import NotFound
from portal.domain.history import Period
from portal.models import AlertSettings, LoginSession, Passkey, SmsMessage, SocialAccount, utcnow
from tests import factories


def ways(db_session, login, *, n=1):
    now = utcnow()
    db_session.add_all([Passkey(login_id=login.id, credential_id=f"c{login.id}-{i}", user_handle="u", public_key=b"k",
                                name=f"Phone {i}", created_at=now - timedelta(days=i)) for i in range(n)])
    db_session.add(SocialAccount(login_id=login.id, provider="yandex", subject=str(login.id), shown="a***@ya.ru"))
    db_session.add(LoginSession(token=f"t{login.id}", login_id=login.id))
    db_session.add(LoginSession(token=f"old{login.id}", login_id=login.id, revoked_at=now))
    db_session.commit()
    live = feed.make_key(db_session, login_id=login.id, name="Live", actor=SYSTEM, now=now)
    dead = feed.make_key(db_session, login_id=login.id, name="Dead", actor=SYSTEM, now=now)
    feed.revoke_key(db_session, login_id=login.id, token_id=dead.token.id, actor=SYSTEM, now=now)
    return live


@pytest.fixture
def staff(db_session):
    return Actor(staff_id=factories.make_staff(db_session).id, ip="198.51.100.7")


@pytest.fixture
def customer(db_session):
    line = factories.make_line(db_session, "+79161234567")
    home = factories.make_home_contract(db_session, "HC-1", customer=line.customer)
    mobile_login, home_login = factories.make_login(db_session, line), factories.make_login(db_session, home)
    ways(db_session, mobile_login, n=2)
    other = factories.make_login(db_session, factories.make_line(db_session, "+79035550000"))
    ways(db_session, other)
    return line.customer, mobile_login, home_login, other


def test_every_login_of_the_customer_with_its_live_ways_in_in_one_query(db_session, customer, count_queries):
    owner, mobile, home, _other = customer
    with count_queries() as statements:
        cards = ways_in.of_customer(db_session, owner.id, provider_names={})
    assert len(statements) == 1
    by_login = {c.login_id: c for c in cards}
    assert set(by_login) == {mobile.id, home.id}
    card = by_login[mobile.id]
    assert card.signs_in_as == "+79161234567" and card.open_sessions == 1
    assert [p.name for p in card.passkeys] == ["Phone 1", "Phone 0"]  # oldest first
    assert [(s.name, s.detail) for s in card.linked] == [("Yandex ID", "a***@ya.ru")]
    assert [k.name for k in card.feed_keys] == ["Live"]  # a revoked key is no way in
    assert by_login[home.id].signs_in_as == "HC-1" and not by_login[home.id].anything_open
    # A provider the operator configured is called by the operator's name for it.
    renamed = ways_in.of_customer(db_session, owner.id, provider_names={"yandex": "Яндекс ID"})
    assert [s.name for s in {c.login_id: c for c in renamed}[mobile.id].linked] == ["Яндекс ID"]


def test_shutting_every_way_in_is_one_change_told_once(db_session, customer, staff):
    owner, mobile, _home, other = customer
    shut = ways_in.shut_every_way_in(db_session, customer_id=owner.id, login_id=mobile.id, idempotency_key="k" * 24,
                                     actor=staff, now=utcnow())
    assert shut == ways_in.Shut(passkeys=2, linked=1, feed_keys=1, sessions=1)
    [card] = [c for c in ways_in.of_customer(db_session, owner.id, provider_names={}) if c.login_id == mobile.id]
    assert not card.anything_open
    assert ways_in.of_customer(db_session, other.primary_account.customer_id, provider_names={})[0].anything_open
    assert ways_in.shut_every_way_in(db_session, customer_id=owner.id, login_id=mobile.id, idempotency_key="k" * 24,
                                     actor=staff, now=utcnow()) is None
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 1
    shown, _next = archive.events_page(db_session, mobile.id, Period(utcnow().date(), utcnow().date()), "access")
    assert "ways_in_shut" in [e.action for e in shown]  # the customer's archive says what support did


def test_another_customers_login_or_things_are_not_found(db_session, customer, staff):
    owner, _mobile, _home, other = customer
    passkey = db_session.scalar(select(Passkey).where(Passkey.login_id == other.id))
    with pytest.raises(NotFound):
        ways_in.shut_every_way_in(db_session, customer_id=owner.id, login_id=other.id, idempotency_key="a" * 24,
                                  actor=staff, now=utcnow())
    with pytest.raises(NotFound):
        ways_in.remove_passkey(db_session, customer_id=owner.id, passkey_id=passkey.id, idempotency_key="b" * 24,
                               actor=staff, now=utcnow())


def test_the_notice_is_sent_in_the_owners_language_even_with_change_alerts_off(db_session, customer, staff):
    owner, mobile, _home, _other = customer
    mobile.language = "ru"
    db_session.add(AlertSettings(account_id=mobile.primary_account_id, on_change=False))
    db_session.commit()
    passkey = db_session.scalar(select(Passkey).where(Passkey.login_id == mobile.id))
    assert ways_in.remove_passkey(db_session, customer_id=owner.id, passkey_id=passkey.id, idempotency_key="c" * 24,
                                  actor=staff, now=utcnow())
    [text] = db_session.scalars(select(SmsMessage.text))
    assert "поддержка удалила ключ доступа" in text
