"""Home extras through connect_service/disconnect_service: the record is made and freed in the same transaction."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.domain import home_extras, services
from portal.domain.audit import Actor
from portal.domain.errors import DomainError
from portal.domain.passwords import check_secret
from portal.models import Account, AntivirusLicence, LedgerEntry, Mailbox, StaticIp, Subscription
from tests.home_fixtures import make_home, make_home_with_catalog

NOW = datetime(2026, 11, 20, 12, 0)
ACTOR = Actor(ip="127.0.0.1")
POOL = "198.51.100.0/29"  # six hosts: .1 … .6
_keys = iter(range(10_000))


def key() -> str:
    return f"test-key-{next(_keys):08d}"


@pytest.fixture
def home(db_session):
    return make_home_with_catalog(db_session)


def connect(db_session, account_id, service, **setup):
    return services.connect_service(db_session, account_id=account_id, service_id=service.id, idempotency_key=key(),
                                    actor=ACTOR, now=NOW, setup=home_extras.ExtraSetup(**setup))


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("name", ["ab", "a" * 31, "Anna", "anna petrova", "анна", "-anna", "anna.", "a..b",
                                  "postmaster"])
def test_bad_mailbox_names_are_refused(db_session, name):
    with pytest.raises(home_extras.ExtraRefused) as err:
        home_extras.check_mailbox_name(db_session, name)
    assert err.value.field == "mailbox_name"


@pytest.mark.parametrize("name", ["anna", "anna.petrova", "a_b-c", "a1b", "x" * 30])
def test_good_mailbox_names_pass(db_session, name):
    home_extras.check_mailbox_name(db_session, name)


def test_a_mailbox_is_made_with_a_hashed_password(db_session, home):
    assert connect(db_session, home.account.id, home.mailbox, mailbox_name=" Anna.P ", mailbox_password="river-stone-9")
    mailbox = db_session.scalar(select(Mailbox))
    assert mailbox.name == "anna.p" and check_secret(mailbox.password_hash, "river-stone-9")
    assert mailbox.subscription_id == db_session.scalar(select(Subscription.id))


def test_a_taken_mailbox_name_changes_nothing(db_session, home):
    other = make_home(db_session, contract_no="HC-2")
    db_session.commit()
    connect(db_session, other.id, home.mailbox, mailbox_name="anna", mailbox_password="river-stone-9")
    balance = db_session.get(Account, home.account.id).balance
    with pytest.raises(home_extras.ExtraRefused) as err:
        connect(db_session, home.account.id, home.mailbox, mailbox_name="anna", mailbox_password="river-stone-9")
    assert err.value.field == "mailbox_name"
    assert count(db_session, Mailbox) == 1 and count(db_session, Subscription) == 1
    assert db_session.get(Account, home.account.id).balance == balance


def test_a_weak_mailbox_password_is_refused(db_session, home):
    with pytest.raises(DomainError) as err:
        connect(db_session, home.account.id, home.mailbox, mailbox_name="anna", mailbox_password="short")
    assert err.value.field == "mailbox_password" and count(db_session, Subscription) == 0


def test_the_mailbox_name_has_a_unique_constraint_too(db_session, home):
    from sqlalchemy.exc import IntegrityError

    connect(db_session, home.account.id, home.mailbox, mailbox_name="anna", mailbox_password="river-stone-9")
    other = Subscription(account_id=home.account.id, service_id=home.mailbox.id)
    db_session.add(other)
    db_session.flush()
    db_session.add(Mailbox(account_id=home.account.id, subscription_id=other.id, name="anna", password_hash="x"))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_disconnecting_the_mailbox_frees_the_name(db_session, home):
    connect(db_session, home.account.id, home.mailbox, mailbox_name="anna", mailbox_password="river-stone-9")
    sub = db_session.scalar(select(Subscription))
    services.disconnect_service(db_session, account_id=home.account.id, subscription_id=sub.id, idempotency_key=key(),
                                actor=ACTOR, now=NOW)
    assert count(db_session, Mailbox) == 0
    home_extras.check_mailbox_name(db_session, "anna")


def test_an_extra_needs_its_setup_so_the_plain_services_page_cannot_connect_it(db_session, home):
    with pytest.raises(home_extras.ExtraRefused):
        services.connect_service(db_session, account_id=home.account.id, service_id=home.antivirus.id,
                                 idempotency_key=key(), actor=ACTOR, now=NOW)
    assert count(db_session, Subscription) == 0 and count(db_session, LedgerEntry) == 1  # the opening only


def test_the_antivirus_licence_is_stored_hashed_and_shown_masked(db_session, home):
    licence_key = home_extras.licence_key("secret", "form-key-1")
    assert licence_key == home_extras.licence_key("secret", "form-key-1")  # a resubmitted form: the same key
    assert licence_key != home_extras.licence_key("secret", "form-key-2")
    assert len(licence_key) == 24 and licence_key.count("-") == 4
    connect(db_session, home.account.id, home.antivirus, licence_key=licence_key)
    licence = db_session.scalar(select(AntivirusLicence))
    assert check_secret(licence.key_hash, licence_key) and licence_key not in licence.key_hash
    assert licence.masked == f"XXXX-XXXX-XXXX-{licence_key[-4:]}"
    fees = db_session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "service_fee")).all()
    assert fees and all(a < 0 for a in fees)  # the fee went through the ledger as for any service


def test_disconnecting_the_antivirus_revokes_the_licence(db_session, home):
    connect(db_session, home.account.id, home.antivirus, licence_key=home_extras.licence_key("s", "k"))
    sub = db_session.scalar(select(Subscription))
    services.disconnect_service(db_session, account_id=home.account.id, subscription_id=sub.id, idempotency_key=key(),
                                actor=ACTOR, now=NOW)
    assert db_session.scalar(select(AntivirusLicence.revoked_at)) == NOW
    assert home_extras.extras_records(db_session, home.account.id).licences == {}


def test_static_addresses_come_from_the_pool_and_go_back_on_disconnect(db_session, home):
    connect(db_session, home.account.id, home.static_ip, ip_pool=POOL)
    assert db_session.scalar(select(StaticIp.address)) == "198.51.100.1"
    other = make_home(db_session, contract_no="HC-2")
    db_session.commit()
    connect(db_session, other.id, home.static_ip, ip_pool=POOL)
    assert sorted(db_session.scalars(select(StaticIp.address))) == ["198.51.100.1", "198.51.100.2"]
    sub = db_session.scalar(select(Subscription).where(Subscription.account_id == home.account.id))
    services.disconnect_service(db_session, account_id=home.account.id, subscription_id=sub.id, idempotency_key=key(),
                                actor=ACTOR, now=NOW)
    assert db_session.scalars(select(StaticIp.address)).all() == ["198.51.100.2"]
    assert home_extras.free_address(db_session, POOL) == "198.51.100.1"


def test_an_exhausted_pool_refuses_before_charging(db_session, home):
    pool = "198.51.100.0/30"  # two hosts
    others = [make_home(db_session, contract_no=f"HC-{n}") for n in (2, 3)]
    db_session.commit()
    for account in (home.account, others[0]):
        connect(db_session, account.id, home.static_ip, ip_pool=pool)
    balance = db_session.get(Account, others[1].id).balance
    with pytest.raises(home_extras.ExtraRefused):
        connect(db_session, others[1].id, home.static_ip, ip_pool=pool)
    assert count(db_session, StaticIp) == 2 and count(db_session, Subscription) == 2
    assert db_session.get(Account, others[1].id).balance == balance


def test_a_double_submission_connects_once(db_session, home):
    form_key = key()
    setup = home_extras.ExtraSetup(licence_key=home_extras.licence_key("s", form_key))
    first = services.connect_service(db_session, account_id=home.account.id, service_id=home.antivirus.id,
                                     idempotency_key=form_key, actor=ACTOR, now=NOW, setup=setup)
    again = services.connect_service(db_session, account_id=home.account.id, service_id=home.antivirus.id,
                                     idempotency_key=form_key, actor=ACTOR, now=NOW, setup=setup)
    assert first is True and again is False
    assert count(db_session, AntivirusLicence) == 1 and count(db_session, Subscription) == 1


def test_ending_the_contract_frees_the_name_and_the_address(db_session, home):
    from portal.domain.contracts import terminate

    connect(db_session, home.account.id, home.mailbox, mailbox_name="anna", mailbox_password="river-stone-9")
    connect(db_session, home.account.id, home.static_ip, ip_pool=POOL)
    connect(db_session, home.account.id, home.antivirus, licence_key=home_extras.licence_key("s", "k"))
    terminate(db_session, account_id=home.account.id, reason="moving away", actor=ACTOR, now=NOW)
    assert count(db_session, Mailbox) == 0 and count(db_session, StaticIp) == 0
    assert db_session.scalar(select(AntivirusLicence.revoked_at)) == NOW


def test_a_bad_static_ip_pool_stops_start_up():
    from portal import ConfigError, create_app

    with pytest.raises(ConfigError, match="STATIC_IP_POOL"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "STATIC_IP_POOL": "not-a-network"})
