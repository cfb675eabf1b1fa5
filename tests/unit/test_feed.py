"""The balance feed's keys: made once and shown once, stored hashed, read-only, revoked by their owner only."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import feed
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.models import AuditEvent, FeedToken, LoginAccount, utcnow
from tests import factories


@pytest.fixture
def owner(db_session):
    tariff = factories.make_tariff(db_session, name="Смарт", name_en="Smart")
    line = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=93600)
    factories.make_allowance(db_session, line)
    login = factories.make_login(db_session, line)
    db_session.commit()
    return login


def actor(login):
    return Actor(login_id=login.id, account_id=login.primary_account_id, ip="203.0.113.5")


def make(db_session, login, name="Widget", **kwargs):
    return feed.make_key(db_session, login_id=login.id, name=name, actor=actor(login), now=utcnow(), **kwargs)


def test_a_key_is_random_stored_hashed_and_audited(db_session, owner):
    new = make(db_session, owner, name="  Widget   on my phone ")
    assert new.secret.startswith("bf_") and len(new.secret) > 40
    stored = db_session.get(FeedToken, new.token.id)
    assert stored.name == "Widget on my phone" and new.secret not in stored.token_hash
    assert stored.hint == new.secret[:8]
    assert make(db_session, owner).secret != new.secret
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "feed_token")) \
        == "feed_key_made"


@pytest.mark.parametrize(("name", "message"), [("", "Name the key"), ("x" * 61, "At most 60")])
def test_a_key_needs_a_short_name(db_session, owner, name, message):
    with pytest.raises(feed.FeedRefused, match=message):
        make(db_session, owner, name=name)


def test_at_most_five_live_keys_and_a_revoked_one_frees_a_place(db_session, owner):
    keys = [make(db_session, owner, name=f"k{n}") for n in range(feed.MAX_KEYS)]
    with pytest.raises(feed.FeedRefused, match="At most 5 keys"):
        make(db_session, owner)
    feed.revoke_key(db_session, login_id=owner.id, token_id=keys[0].token.id, actor=actor(owner), now=utcnow())
    assert make(db_session, owner).secret


def test_the_same_form_twice_makes_one_key(db_session, owner):
    assert make(db_session, owner, idempotency_key="k" * 24) is not None
    assert make(db_session, owner, idempotency_key="k" * 24) is None
    assert db_session.scalar(select(func.count()).select_from(FeedToken)) == 1


def test_a_key_reads_its_login_and_counts_the_use(db_session, owner):
    new = make(db_session, owner)
    now = utcnow()
    assert feed.login_of_key(db_session, new.secret, now=now, ip="198.51.100.7") == owner.id
    assert feed.login_of_key(db_session, new.secret, now=now, ip="198.51.100.7") == owner.id
    db_session.expire_all()
    token = db_session.get(FeedToken, new.token.id)
    assert (token.uses, token.last_used_at, token.last_used_ip) == (2, now, "198.51.100.7")


@pytest.mark.parametrize("secret", [None, "", "bf_unknown", "not-a-key", "bf_" + "x" * 200])
def test_an_unknown_or_malformed_key_reads_nothing(db_session, owner, secret):
    make(db_session, owner)
    assert feed.login_of_key(db_session, secret, now=utcnow(), ip=None) is None


def test_a_revoked_key_or_a_switched_off_login_reads_nothing(db_session, owner):
    revoked, live = make(db_session, owner), make(db_session, owner)
    feed.revoke_key(db_session, login_id=owner.id, token_id=revoked.token.id, actor=actor(owner), now=utcnow())
    assert feed.login_of_key(db_session, revoked.secret, now=utcnow(), ip=None) is None
    owner.enabled = False
    db_session.commit()
    assert feed.login_of_key(db_session, live.secret, now=utcnow(), ip=None) is None


def test_only_the_owner_revokes_and_twice_is_once(db_session, owner):
    new = make(db_session, owner)
    other = factories.ensure_login(db_session, "+79031112233")
    with pytest.raises(NotFound):
        feed.revoke_key(db_session, login_id=other.id, token_id=new.token.id, actor=actor(other), now=utcnow())
    for _ in range(2):
        feed.revoke_key(db_session, login_id=owner.id, token_id=new.token.id, actor=actor(owner), now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "feed_key_revoked")) == 1


def test_the_entries_are_every_account_with_its_package(db_session, owner):
    home = factories.make_home_contract(db_session, "HC-100200", balance=-5000)
    db_session.add(LoginAccount(login_id=owner.id, account_id=home.id))
    db_session.commit()
    line, contract = feed.entries(db_session, owner.id, now=utcnow())
    assert (line.number, line.balance, line.status, line.tariff, line.tariff_en) == \
        ("+79161234567", 93600, "active", "Смарт", "Smart")
    assert line.package.minutes_left >= 0 and line.package.until > utcnow() - timedelta(days=1)
    assert (contract.kind, contract.number, contract.balance, contract.package) == ("home", "HC-100200", -5000, None)
