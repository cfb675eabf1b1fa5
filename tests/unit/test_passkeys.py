"""Passkeys in the domain, verified by py_webauthn on real ES256 attestations and assertions: user verification
required, challenges single-use and short-lived, sign counts that go back refused, ten per owner."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import passkeys
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.models import AuditEvent, Challenge, Passkey, SmsMessage, utcnow
from tests import factories
from tests.soft_authenticator import SoftAuthenticator

RP = passkeys.RelyingParty(id="localhost", origin="http://localhost", name="TestTel")
KEY = "handle-key"


@pytest.fixture
def login(db_session):
    return factories.ensure_login(db_session, "+79161234567")


def owner_of(login):
    return passkeys.Owner(login_id=login.id)


def actor(login):
    return Actor(login_id=login.id, account_id=login.primary_account_id, ip="203.0.113.5")


def add(db_session, login, device, *, name="Phone", now=None, **create):
    now = now or utcnow()
    token, options = passkeys.registration_options(db_session, owner=owner_of(login), rp=RP, user_name="+7916",
                                                   display_name="+7916", handle_key=KEY, now=now)
    return passkeys.register(db_session, owner=owner_of(login), token=token, response=device.create(options, **create),
                             name=name, rp=RP, handle_key=KEY, actor=actor(login), now=now,
                             account=login.primary_account)


def sign_in(db_session, device, *, now=None, **get):
    now = now or utcnow()
    token, options = passkeys.authentication_options(db_session, rp=RP, now=now)
    return passkeys.sign_in_customer(db_session, token=token, response=device.get(options, **get), rp=RP,
                                     ip="203.0.113.5", now=now)


def test_a_passkey_is_added_with_its_public_key_only_audited_and_told_by_sms(db_session, login):
    device = SoftAuthenticator()
    passkey = add(db_session, login, device, name="  My   phone ")
    assert passkey.name == "My phone" and passkey.login_id == login.id and passkey.transports == "internal"
    assert passkey.public_key and passkey.last_used_at is None
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "passkey")) == "passkey_added"
    assert "passkey \"My phone\" was added" in db_session.scalar(select(SmsMessage.text))


def test_the_passkey_signs_in_its_login_and_counts_its_use(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    assert sign_in(db_session, device).id == login.id
    passkey = db_session.scalar(select(Passkey))
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "login")) == "passkey Phone"


def test_a_creation_without_user_verification_is_refused(db_session, login):
    with pytest.raises(passkeys.PasskeyRefused):
        add(db_session, login, SoftAuthenticator(), verified=False)
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 0


def test_an_assertion_without_user_verification_is_refused(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    with pytest.raises(passkeys.PasskeyRefused):
        sign_in(db_session, device, verified=False)


def test_another_origin_is_refused(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    with pytest.raises(passkeys.PasskeyRefused):
        sign_in(db_session, device, origin="https://phish.example")


def test_a_sign_count_that_goes_back_is_refused(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    sign_in(db_session, device, sign_count=5)
    with pytest.raises(passkeys.PasskeyRefused):
        sign_in(db_session, device, sign_count=3)
    assert db_session.scalar(select(Passkey.sign_count)) == 5


def test_a_challenge_works_once(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    token, options = passkeys.authentication_options(db_session, rp=RP, now=utcnow())
    answer = device.get(options)
    passkeys.sign_in_customer(db_session, token=token, response=answer, rp=RP, ip=None, now=utcnow())
    with pytest.raises(passkeys.ChallengeExpired):
        passkeys.sign_in_customer(db_session, token=token, response=answer, rp=RP, ip=None, now=utcnow())


def test_an_old_challenge_is_refused_with_a_clear_message(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    then = utcnow() - passkeys.CHALLENGE_TTL - timedelta(seconds=1)
    token, options = passkeys.authentication_options(db_session, rp=RP, now=then)
    with pytest.raises(passkeys.ChallengeExpired, match="expired"):
        passkeys.sign_in_customer(db_session, token=token, response=device.get(options), rp=RP, ip=None,
                                  now=utcnow())


def test_an_answer_to_another_challenge_is_refused(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    token, _ = passkeys.authentication_options(db_session, rp=RP, now=utcnow())
    _, other = passkeys.authentication_options(db_session, rp=RP, now=utcnow())
    with pytest.raises(passkeys.PasskeyRefused):
        passkeys.sign_in_customer(db_session, token=token, response=device.get(other), rp=RP, ip=None, now=utcnow())


def test_an_unknown_passkey_reads_like_any_failure(db_session, login):
    with pytest.raises(passkeys.PasskeyRefused) as unknown:
        sign_in(db_session, SoftAuthenticator())
    device = SoftAuthenticator()
    add(db_session, login, device)
    with pytest.raises(passkeys.PasskeyRefused) as bad:
        sign_in(db_session, device, origin="https://phish.example")
    assert unknown.value.message == bad.value.message


def test_a_registration_challenge_is_bound_to_its_login(db_session, login):
    other = factories.ensure_login(db_session, "+79161234568")
    token, options = passkeys.registration_options(db_session, owner=owner_of(login), rp=RP, user_name="a",
                                                   display_name="a", handle_key=KEY, now=utcnow())
    with pytest.raises(passkeys.ChallengeExpired):
        passkeys.register(db_session, owner=owner_of(other), token=token, response=SoftAuthenticator().create(options),
                          name="x", rp=RP, handle_key=KEY, actor=actor(other), now=utcnow())


def test_a_staff_passkey_does_not_open_a_customer_sign_in(db_session):
    member = factories.make_staff(db_session)
    device = SoftAuthenticator()
    owner = passkeys.Owner(staff_id=member.id)
    token, options = passkeys.registration_options(db_session, owner=owner, rp=RP, user_name="a", display_name="a",
                                                   handle_key=KEY, now=utcnow())
    passkeys.register(db_session, owner=owner, token=token, response=device.create(options), name="Key", rp=RP,
                      handle_key=KEY, actor=Actor(staff_id=member.id), now=utcnow())
    with pytest.raises(passkeys.PasskeyRefused):
        sign_in(db_session, device)
    token, options = passkeys.authentication_options(db_session, rp=RP, now=utcnow(), owner=owner)
    assert passkeys.authenticate(db_session, token=token, response=device.get(options), rp=RP, ip=None,
                                 now=utcnow(), staff_id=member.id).staff_id == member.id


def test_a_switched_off_login_does_not_open_with_a_passkey(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    login.enabled = False
    db_session.commit()
    with pytest.raises(passkeys.PasskeyRefused, match="switched off"):
        sign_in(db_session, device)


def test_ten_passkeys_at_most(db_session, login):
    for n in range(passkeys.MAX_PER_OWNER):
        add(db_session, login, SoftAuthenticator(), name=f"Device {n}")
    with pytest.raises(passkeys.TooManyPasskeys):
        add(db_session, login, SoftAuthenticator())


def test_the_same_device_cannot_be_added_twice(db_session, login):
    device = SoftAuthenticator()
    add(db_session, login, device)
    with pytest.raises(passkeys.PasskeyRefused, match="already"):
        add(db_session, login, device)


def test_rename_and_remove_are_the_owners_only(db_session, login):
    passkey = add(db_session, login, SoftAuthenticator())
    other = factories.ensure_login(db_session, "+79161234568")
    with pytest.raises(NotFound):
        passkeys.rename(db_session, owner=owner_of(other), passkey_id=passkey.id, name="Mine", actor=actor(other))
    with pytest.raises(NotFound):
        passkeys.remove(db_session, owner=owner_of(other), passkey_id=passkey.id, actor=actor(other), now=utcnow())
    with pytest.raises(passkeys.PasskeyRefused):
        passkeys.rename(db_session, owner=owner_of(login), passkey_id=passkey.id, name="   ", actor=actor(login))
    passkeys.rename(db_session, owner=owner_of(login), passkey_id=passkey.id, name="Laptop", actor=actor(login))
    assert db_session.get(Passkey, passkey.id).name == "Laptop"
    assert passkeys.remove(db_session, owner=owner_of(login), passkey_id=passkey.id, actor=actor(login),
                           now=utcnow(), account=login.primary_account) == "Laptop"
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 0
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)
                             .where(SmsMessage.text.contains("was removed"))) == 1


def test_the_relying_party_comes_from_config_then_the_public_address():
    rp = passkeys.RelyingParty.from_settings(rp_id=None, origin=None, public_url="https://my.example.ru/lk/",
                                             host_url=None, name="T")
    assert (rp.id, rp.origin) == ("my.example.ru", "https://my.example.ru")
    rp = passkeys.RelyingParty.from_settings(rp_id="example.ru", origin="https://lk.example.ru", public_url=None,
                                             host_url="http://evil/", name="T")
    assert (rp.id, rp.origin) == ("example.ru", "https://lk.example.ru")
    assert passkeys.RelyingParty.from_settings(rp_id=None, origin=None, public_url=None, host_url=None,
                                               name="T") is None


def test_long_dead_challenges_are_cleared_by_new_ones(db_session, login):
    old = utcnow() - 3 * passkeys.CHALLENGE_TTL
    passkeys.authentication_options(db_session, rp=RP, now=old)
    passkeys.authentication_options(db_session, rp=RP, now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(Challenge)) == 1


def test_in_production_passkeys_take_the_sites_address_never_the_host_header(database_url):
    from portal import create_app
    from portal.auth.passkeys import relying_party

    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.test_request_context("/", base_url="http://evil.example"):
        assert relying_party() is None
    app.config["PUBLIC_URL"] = "https://lk.example.ru/"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert relying_party() == passkeys.RelyingParty(id="lk.example.ru", origin="https://lk.example.ru",
                                                        name=app.config["BRAND"])


def test_requiring_staff_passkeys_without_the_sites_address_stops_startup(database_url):
    from portal import ConfigError, create_app

    with pytest.raises(ConfigError, match="STAFF_PASSKEY_REQUIRED"):
        create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url, "STAFF_PASSKEY_REQUIRED": True})
