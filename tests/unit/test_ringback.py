"""Ringback melodies: chosen for everyone or a number, charged as daily services, ended when unused."""
import secrets
import wave
from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.domain import ringback, tunes
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.models import Account, LedgerEntry, Melody, RingbackChoice, Subscription, SwitchCommand, utcnow
from tests import factories

LINE = "+79161234567"
FRIEND = "+79031112233"


@pytest.fixture
def catalog(db_session):
    account = factories.make_line(db_session, LINE, balance=10000)
    factories.make_service(db_session, code="ringback-tone", name="Ringback melody", category="entertainment",
                           monthly_fee=0, daily_fee=100)
    melodies = []
    for code, fee in (("m-kalinka", 50), ("m-ode", 80)):
        service = factories.make_service(db_session, code=code, name=code, category="ringback", monthly_fee=0,
                                         daily_fee=fee)
        db_session.add(Melody(service_id=service.id, artist="Someone", tune="E5:1 D5:1 C5:2"))
        melodies.append(service.id)
    db_session.commit()
    return account, melodies


def choose(session, account, melody_id, caller=None, accept=True, key=None):
    return ringback.set_melody(session, account_id=account.id, melody_id=melody_id, caller=caller, accept_fee=accept,
                               idempotency_key=key or secrets.token_urlsafe(24), actor=Actor(), now=utcnow())


def active(session):
    return sorted(s.service.code for s in session.scalars(select(Subscription).where(Subscription.status == "active")))


def test_the_first_melody_needs_the_fees_accepted_then_connects_the_base_and_the_melody(db_session, catalog):
    account, (kalinka, _ode) = catalog
    with pytest.raises(ringback.FeeNotAccepted):
        choose(db_session, account, kalinka, accept=False)
    assert active(db_session) == []
    assert choose(db_session, account, kalinka)
    assert active(db_session) == ["m-kalinka", "ringback-tone"]
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 10000 - 100 - 50
    [choice] = db_session.scalars(select(RingbackChoice)).all()
    assert (choice.caller, choice.melody_id) == ("", kalinka)
    ops = [c.operation for c in db_session.scalars(select(SwitchCommand).order_by(SwitchCommand.id))]
    assert ops == ["service.on", "ringback.set"]  # a melody is billing only: the switch gets the choice


def test_the_same_melody_for_a_number_costs_nothing_more_and_needs_no_tick(db_session, catalog):
    account, (kalinka, _ode) = catalog
    choose(db_session, account, kalinka)
    assert choose(db_session, account, kalinka, caller=FRIEND, accept=False)
    assert db_session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.kind == "service_fee")) == 2


def test_replacing_a_melody_ends_the_one_no_longer_used(db_session, catalog):
    account, (kalinka, ode) = catalog
    choose(db_session, account, kalinka)
    choose(db_session, account, ode)  # the same "every caller" choice, another melody
    assert active(db_session) == ["m-ode", "ringback-tone"]
    assert db_session.scalar(select(func.count()).select_from(RingbackChoice)) == 1


def test_a_double_submission_sets_once(db_session, catalog):
    account, (kalinka, _ode) = catalog
    key = secrets.token_urlsafe(24)
    assert choose(db_session, account, kalinka, key=key)
    assert not choose(db_session, account, kalinka, key=key)
    assert db_session.scalar(select(func.count()).select_from(SwitchCommand)
                             .where(SwitchCommand.operation == "ringback.set")) == 1


def test_removing_the_last_choice_ends_the_melody_and_the_base(db_session, catalog):
    account, (kalinka, ode) = catalog
    choose(db_session, account, kalinka)
    choose(db_session, account, ode, caller=FRIEND)
    everyone, friend = ringback.choices_of(db_session, account.id)
    assert everyone.caller == "" and friend.caller == FRIEND
    ringback.remove_choices(db_session, account_id=account.id, choice_ids=[everyone.id],
                            idempotency_key=secrets.token_urlsafe(24), actor=Actor(), now=utcnow())
    assert active(db_session) == ["m-ode", "ringback-tone"]
    ringback.remove_choices(db_session, account_id=account.id, choice_ids=[friend.id],
                            idempotency_key=secrets.token_urlsafe(24), actor=Actor(), now=utcnow())
    assert active(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(SwitchCommand)
                             .where(SwitchCommand.operation == "ringback.remove")) == 2


def test_own_number_unknown_melody_and_anothers_choice_are_refused(db_session, catalog):
    account, (kalinka, _ode) = catalog
    with pytest.raises(ringback.RingbackRefused):
        choose(db_session, account, kalinka, caller=LINE)
    with pytest.raises(NotFound):
        choose(db_session, account, 999_999)
    other = factories.make_line(db_session, FRIEND, balance=10000)
    db_session.commit()
    choose(db_session, other, kalinka)
    foreign = db_session.scalar(select(RingbackChoice.id))
    with pytest.raises(NotFound):
        ringback.remove_choices(db_session, account_id=account.id, choice_ids=[foreign],
                                idempotency_key=secrets.token_urlsafe(24), actor=Actor(), now=utcnow())
    assert active(db_session) == ["m-kalinka", "ringback-tone"]  # the other line's, untouched


def test_a_tune_becomes_a_playable_wav():
    data = tunes.render_wav("E5:2 R:1 C#4:1")
    with wave.open(BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 1, tunes.RATE)
        assert wav.getnframes() == int(tunes.RATE * tunes.EIGHTH_S * 4)
    assert tunes.parse("A4:1") == [(440.0, tunes.EIGHTH_S)]
    with pytest.raises(tunes.BadTune):
        tunes.parse("H2:1")
