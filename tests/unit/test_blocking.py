"""The owner's block: which statuses allow it, idempotence, the notices, the password and its throttle."""
import pytest
from sqlalchemy import select

from portal.domain import blocking
from portal.domain.audit import Actor
from portal.domain.auth import AuthPolicy, TryLater
from portal.models import Account, AuditEvent, Customer, HomeContract, LoginAccount, SmsMessage, utcnow
from tests import factories

WORDING = blocking.NoticeText(sms_locale="en", brand="TestTel")


@pytest.fixture
def policy(app):
    return AuthPolicy.from_config(app.config)


@pytest.fixture
def family(db_session):
    """One login: a main number, a second active one, a suspended one and a home contract."""
    main = factories.make_line(db_session, "+79161234567")
    login = factories.make_login(db_session, main)
    second = factories.make_line(db_session, "+79031112233", customer=main.customer)
    suspended = factories.make_line(db_session, "+79267776655", customer=main.customer, status="suspended")
    home = Account(customer=main.customer, kind="home", region="Moscow")
    db_session.add_all([home, HomeContract(account=home, contract_no="H-1", address="Street 1",
                                           connection_type="gpon")])
    db_session.flush()
    for account in (second, suspended, home):
        db_session.add(LoginAccount(login_id=login.id, account_id=account.id))
    db_session.commit()
    return dict(login=login, main=main, second=second, suspended=suspended, home=home)


def block(db_session, family, account, reason="lost"):
    return blocking.block_number(db_session, account_id=account.id, reason=reason, now=utcnow(), wording=WORDING,
                                 actor=Actor(login_id=family["login"].id, account_id=family["main"].id))


def unblock(db_session, family, account, policy, password=factories.PASSWORD):
    return blocking.unblock_number(db_session, account_id=account.id, login_id=family["login"].id,
                                   password=password, now=utcnow(), policy=policy, wording=WORDING,
                                   actor=Actor(login_id=family["login"].id, ip="192.0.2.1"))


def notices(db_session):
    return db_session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()


@pytest.mark.parametrize("status, blockable", [("active", True), ("blocked_lost", True),
                                               ("blocked_by_owner", True), ("suspended", False),
                                               ("terminated", False)])
def test_which_statuses_the_owner_may_block(db_session, status, blockable):
    account = factories.make_line(db_session, status=status)
    assert (blocking.block_refusal(account) is None) is blockable


def test_a_home_contract_is_not_blocked_here(db_session, family):
    assert blocking.block_refusal(family["home"]) is not None
    with pytest.raises(blocking.BlockRefused):
        block(db_session, family, family["home"])


def test_the_notice_goes_to_the_other_active_mobile_numbers_only(db_session, family):
    assert block(db_session, family, family["second"]) is True
    [notice] = notices(db_session)
    assert notice.to == "+79161234567" and notice.purpose == "notice"
    assert "lost or stolen" in notice.text and "+7 903 111-22-33" in notice.text


def test_a_voluntary_block_is_worded_so(db_session, family):
    block(db_session, family, family["second"], reason="voluntary")
    assert family["second"].status == "blocked_by_owner"
    assert "at your request" in notices(db_session)[0].text


def test_blocking_again_changes_nothing(db_session, family):
    assert block(db_session, family, family["second"]) is True
    assert block(db_session, family, family["second"], reason="voluntary") is False
    assert family["second"].status == "blocked_lost" and len(notices(db_session)) == 1


def test_an_unknown_reason_or_account_is_refused(db_session, family):
    with pytest.raises(blocking.BlockRefused):
        block(db_session, family, family["second"], reason="bored")
    with pytest.raises(blocking.NotFound):
        blocking.block_number(db_session, account_id=987654, reason="lost", actor=Actor(), now=utcnow(),
                              wording=WORDING)


def test_unblocking_needs_the_password_and_counts_failures(db_session, family, policy):
    block(db_session, family, family["second"])
    with pytest.raises(blocking.WrongPassword):
        unblock(db_session, family, family["second"], policy, password="wrong")
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.ip == "192.0.2.1" and event.detail.startswith("unblock")
    assert unblock(db_session, family, family["second"], policy) is True
    assert family["second"].status == "active"
    assert unblock(db_session, family, family["second"], policy) is False


def test_a_locked_login_cannot_unblock_even_with_the_right_password(db_session, family, policy):
    block(db_session, family, family["second"])
    for _ in range(policy.max_failures):
        with pytest.raises(blocking.WrongPassword):
            unblock(db_session, family, family["second"], policy, password="wrong")
    with pytest.raises(TryLater):
        unblock(db_session, family, family["second"], policy)
    assert family["second"].status == "blocked_lost"


def test_a_debt_suspension_is_never_lifted_by_the_owner_or_staff(db_session, family, policy):
    with pytest.raises(blocking.BlockRefused, match="top up"):
        unblock(db_session, family, family["suspended"], policy)
    with pytest.raises(blocking.BlockRefused):
        blocking.staff_unblock(db_session, account_id=family["suspended"].id, reason="Customer asked",
                               actor=Actor(staff_id=1), now=utcnow(), wording=WORDING)
    assert db_session.get(Account, family["suspended"].id).status == "suspended"


def test_staff_unblock_needs_a_reason_and_notifies_the_owners_other_numbers(db_session, family):
    staff = factories.make_staff(db_session, role="admin")
    block(db_session, family, family["main"])
    with pytest.raises(blocking.BlockRefused) as err:
        blocking.staff_unblock(db_session, account_id=family["main"].id, reason="ok", actor=Actor(staff_id=staff.id),
                               now=utcnow(), wording=WORDING)
    assert err.value.field == "reason"
    assert blocking.staff_unblock(db_session, account_id=family["main"].id, reason="Called, passport checked",
                                  actor=Actor(staff_id=staff.id), now=utcnow(), wording=WORDING) is True
    assert family["main"].status == "active"
    assert [m.to for m in notices(db_session)] == ["+79031112233", "+79031112233"]
    assert db_session.scalars(select(Customer)).one()  # one customer throughout
