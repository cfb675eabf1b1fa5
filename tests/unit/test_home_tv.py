"""TV packages with channels, and the parental PIN: set, change, reset by SMS with a daily limit."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import home_tv
from portal.domain.audit import Actor
from portal.domain.auth import TryLater
from portal.domain.errors import NotFound
from portal.domain.passwords import check_secret
from portal.models import AuditEvent, ParentalPin, SmsMessage
from tests import factories
from tests.home_fixtures import CONTACT, make_home_with_catalog

NOW = datetime(2026, 11, 20, 12, 0)
ACTOR = Actor(login_id=None, ip="127.0.0.1")


@pytest.fixture
def home(db_session):
    return make_home_with_catalog(db_session)


def actions(db_session):
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_packages_list_their_channels_by_number_and_flag_adult_ones(db_session, home):
    packages = home_tv.tv_packages(db_session, home.account, now=NOW)
    by_name = {p.offer.service.name: p for p in packages}
    assert set(by_name) == {"TV: Basic", "TV: Night 18+"}  # extras are not TV packages
    assert [c.number for c in by_name["TV: Basic"].channels] == [1, 8]
    assert not by_name["TV: Basic"].adult and by_name["TV: Night 18+"].adult


def test_a_mobile_line_is_not_a_home_contract(db_session):
    line = factories.make_line(db_session)
    with pytest.raises(home_tv.NotHomeContract):
        home_tv.require_home(line)
    with pytest.raises(NotFound):
        home_tv.set_parental_pin(db_session, account_id=line.id, pin="1234", old_pin=None, actor=ACTOR, now=NOW)


def test_setting_the_pin_stores_only_its_hash(db_session, home):
    home_tv.set_parental_pin(db_session, account_id=home.account.id, pin="4821", old_pin=None, actor=ACTOR, now=NOW)
    stored = db_session.get(ParentalPin, home.account.id)
    assert stored.pin_hash != "4821" and check_secret(stored.pin_hash, "4821")
    assert home_tv.has_parental_pin(db_session, home.account.id)
    assert actions(db_session) == ["parental_pin_set"]


@pytest.mark.parametrize("pin", ["123", "12345", "abcd", "", "12 4"])
def test_the_pin_is_four_digits(db_session, home, pin):
    with pytest.raises(home_tv.PinRefused) as err:
        home_tv.set_parental_pin(db_session, account_id=home.account.id, pin=pin, old_pin=None, actor=ACTOR, now=NOW)
    assert err.value.field == "pin"
    assert not home_tv.has_parental_pin(db_session, home.account.id)


def test_changing_the_pin_needs_the_old_one(db_session, home):
    account_id = home.account.id
    home_tv.set_parental_pin(db_session, account_id=account_id, pin="4821", old_pin=None, actor=ACTOR, now=NOW)
    for wrong in (None, "0000"):
        with pytest.raises(home_tv.PinRefused) as err:
            home_tv.set_parental_pin(db_session, account_id=account_id, pin="1111", old_pin=wrong, actor=ACTOR,
                                     now=NOW)
        assert err.value.field == "old_pin"
    home_tv.set_parental_pin(db_session, account_id=account_id, pin="1111", old_pin="4821", actor=ACTOR, now=NOW)
    assert check_secret(db_session.get(ParentalPin, account_id).pin_hash, "1111")
    assert actions(db_session) == ["parental_pin_set", "parental_pin_failed", "parental_pin_failed",
                                   "parental_pin_changed"]  # wrong old PINs are counted (issue 14.12)


def reset(db_session, account_id, now=NOW):
    home_tv.reset_parental_pin(db_session, account_id=account_id, actor=ACTOR, now=now, per_day=3, sms_locale="en")


def test_a_reset_sends_a_new_pin_to_the_contact_phone(db_session, home):
    home_tv.set_parental_pin(db_session, account_id=home.account.id, pin="4821", old_pin=None, actor=ACTOR, now=NOW)
    reset(db_session, home.account.id)
    message = db_session.scalar(select(SmsMessage))
    assert message.to == CONTACT and message.purpose == "parental_pin" and message.is_secret
    new_pin = message.text.split(": ")[1][:4]
    assert new_pin.isdigit() and check_secret(db_session.get(ParentalPin, home.account.id).pin_hash, new_pin)
    assert actions(db_session)[-1] == "parental_pin_reset"


def test_resets_are_limited_per_day_in_the_database(db_session, home):
    for minutes in (0, 1, 2):
        reset(db_session, home.account.id, NOW + timedelta(minutes=minutes))
    with pytest.raises(TryLater) as err:
        reset(db_session, home.account.id, NOW + timedelta(hours=5))
    assert err.value.retry_after == NOW + timedelta(days=1)
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 3
    reset(db_session, home.account.id, NOW + timedelta(days=1, seconds=1))  # the first one left the window
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 4


def test_a_contract_without_a_contact_phone_cannot_reset(db_session, home):
    home.account.home_contract.contact_phone = None
    db_session.commit()
    with pytest.raises(home_tv.PinRefused):
        reset(db_session, home.account.id)
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
