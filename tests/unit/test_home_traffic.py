"""Home traffic: billing periods to choose from, traffic per local day, staff's period totals, the sessions CSV,
and the staff operations on home contracts (opening one with its login, changing its status)."""
import csv
import io
import sys
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal.domain import details, home, home_contracts
from portal.domain.audit import Actor
from portal.domain.errors import DomainError, NotFound
from portal.domain.history import Period
from portal.domain.passwords import check_secret
from portal.models import Account, AuditEvent, HomeContract, Login, LoginAccount, ProcessedRequest, UsageRecord
from tests import factories

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, 0)
STAFF = Actor(staff_id=1, ip="10.0.0.1")
KEY = "k" * 24


def test_billing_periods_go_back_to_the_six_month_limit_newest_first():
    periods = home.billing_periods(1, TODAY, earliest=details.earliest_start(TODAY))
    assert periods[0] == (date(2026, 11, 1), date(2026, 12, 1))
    assert periods[-1] == (date(2026, 6, 1), date(2026, 7, 1))  # 1 May is before 28 May
    assert len(periods) == 6
    assert all(a[0] == b[1] for a, b in zip(periods, periods[1:]))  # back to back


def test_billing_periods_follow_the_billing_day():
    periods = home.billing_periods(15, date(2026, 1, 10), earliest=date(2025, 10, 1))
    assert periods == [(date(2025, 12, 15), date(2026, 1, 15)), (date(2025, 11, 15), date(2025, 12, 15)),
                       (date(2025, 10, 15), date(2025, 11, 15))]


@pytest.fixture
def contract(db_session):
    account = factories.make_home_contract(db_session, "HC-100200", billing_day=1)
    db_session.commit()
    return account


def add(session, account_id, started, kb, *, kind="data", ended=None, ip=None):
    session.add(UsageRecord(account_id=account_id, started_at=started, kind=kind, quantity=kb, ended_at=ended, ip=ip))


def test_daily_traffic_lists_every_day_and_counts_a_session_on_its_local_start_day(db_session, contract):
    add(db_session, contract.id, datetime(2026, 11, 2, 21, 30), 100)  # 3 Nov 00:30 in Moscow
    add(db_session, contract.id, datetime(2026, 11, 3, 10, 0), 50)
    add(db_session, contract.id, datetime(2026, 11, 3, 11, 0), 7, kind="sms")  # not traffic
    add(db_session, contract.id, datetime(2026, 10, 31, 20, 59), 1000)  # 31 Oct 23:59 in Moscow: not this period
    other = factories.make_home_contract(db_session, "HC-200300")
    add(db_session, other.id, datetime(2026, 11, 3, 10, 0), 999)
    db_session.commit()
    days = home.daily_traffic(db_session, contract.id, Period(date(2026, 11, 1), date(2026, 11, 5), "Europe/Moscow"))
    assert days == [(date(2026, 11, 1), 0), (date(2026, 11, 2), 0), (date(2026, 11, 3), 150), (date(2026, 11, 4), 0),
                    (date(2026, 11, 5), 0)]
    in_utc = home.daily_traffic(db_session, contract.id, Period(date(2026, 11, 2), date(2026, 11, 3), "UTC"))
    assert in_utc == [(date(2026, 11, 2), 100), (date(2026, 11, 3), 50)]


def test_period_traffic_for_staff_is_one_query_for_every_home_contract(db_session, contract, count_queries):
    second = factories.make_home_contract(db_session, "HC-200300", customer=contract.customer, billing_day=20)
    line = factories.make_line(db_session, customer=contract.customer)
    add(db_session, contract.id, datetime(2026, 11, 5), 10)
    add(db_session, contract.id, datetime(2026, 10, 31, 23), 20)  # the previous period
    add(db_session, second.id, datetime(2026, 11, 21), 30)  # from 20 Nov
    add(db_session, second.id, datetime(2026, 11, 19, 23), 40)  # before it
    db_session.commit()
    accounts = [contract, second, line]
    for account in accounts:  # loaded, as the customer card loads them
        assert account.home_contract is None or account.home_contract.billing_day
    with count_queries() as statements:
        traffic = home.period_traffic(db_session, accounts, today=TODAY)
    assert len(statements) == 1
    assert traffic[contract.id] == home.PeriodTraffic(date(2026, 11, 1), date(2026, 12, 1), 10)
    assert traffic[second.id].kb == 30 and traffic[second.id].start == date(2026, 11, 20)
    assert traffic[second.id].last_day == date(2026, 12, 19) and line.id not in traffic
    assert home.period_traffic(db_session, [line], today=TODAY) == {}


def test_the_sessions_csv_has_a_bom_local_times_seconds_kb_and_ip(app, db_session, contract, count_queries):
    add(db_session, contract.id, datetime(2026, 11, 3, 9, 0), 2048, ended=datetime(2026, 11, 3, 10, 30),
        ip="100.64.1.2")
    add(db_session, contract.id, datetime(2026, 11, 3, 11, 0), 10)  # still on
    db_session.commit()
    period, account_id = Period(date(2026, 11, 1), date(2026, 11, 5), "Europe/Moscow"), contract.id
    with count_queries() as statements:
        text = "".join(details.sessions_csv_lines(db_session, account_id, period, tz=period.tz))
    assert text.startswith("\ufeff") and len(statements) == 1
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["Start", "End", "Duration, s", "Volume, KB", "IP address"],
                    ["2026-11-03T14:00:00+03:00", "", "", "10", ""],
                    ["2026-11-03T12:00:00+03:00", "2026-11-03T13:30:00+03:00", "5400", "2048", "100.64.1.2"]]


def test_session_seconds():
    assert details.session_seconds(datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 11)) == 3600
    assert details.session_seconds(datetime(2026, 1, 1, 10), None) is None
    assert details.session_seconds(datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 9)) == 0


def test_the_call_details_export_is_unchanged_by_the_extra_columns(db_session, contract):
    add(db_session, contract.id, datetime(2026, 11, 3, 9, 0), 5, ended=datetime(2026, 11, 3, 9, 5), ip="1.2.3.4")
    db_session.commit()
    period = Period(date(2026, 11, 1), date(2026, 11, 5))
    assert [len(row) for row in details.iter_records(db_session, contract.id, period, ())] == [6]


# ---- staff: opening a contract and its status ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def staff_actor(db_session, monkeypatch):
    """A real staff member behind STAFF: PostgreSQL checks the audit event's foreign key."""
    member = factories.make_staff(db_session, role="admin")
    monkeypatch.setattr(sys.modules[__name__], "STAFF", Actor(staff_id=member.id, ip="10.0.0.1"))
    return member


@pytest.fixture
def customer(db_session):
    customer = factories.make_customer(db_session, region="Moscow")
    db_session.commit()
    return customer


@pytest.fixture
def tariff(db_session):
    tariff = factories.make_tariff(db_session, kind="home", unlimited_data=True, code="home-100")
    db_session.commit()
    return tariff


def open_contract(session, customer, tariff, **values):
    return home_contracts.open_home_contract(session, **{
        "customer_id": customer.id, "address": "  Moscow,   Tverskaya 1, flat 2 ", "connection_type": "fttb",
        "tariff_id": tariff.id, "contact_phone": "+79161234567", "billing_day": 5, "idempotency_key": KEY,
        "actor": STAFF, "now": NOW, **values})


def test_opening_a_contract_makes_the_account_the_contract_and_a_login_to_change_its_password(
        db_session, customer, tariff):
    opened = open_contract(db_session, customer, tariff)
    account = opened.account
    assert account.kind == "home" and account.status == "active" and account.region == "Moscow"
    assert account.balance == 0 and account.tariff_id == tariff.id and account.created_at == NOW
    contract = account.home_contract
    assert contract.contract_no.startswith("HC-") and len(contract.contract_no) == 9
    assert contract.address == "Moscow, Tverskaya 1, flat 2" and contract.billing_day == 5
    assert contract.connection_type == "fttb" and contract.contact_phone == "+79161234567"
    login = db_session.scalar(select(Login).where(Login.primary_account_id == account.id))
    assert login.must_change_password and check_secret(login.password_hash, opened.password)
    assert len(opened.password) == home_contracts.INITIAL_PASSWORD_LENGTH
    assert db_session.scalar(select(LoginAccount).where(LoginAccount.login_id == login.id)).account_id == account.id
    events = db_session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.staff_id, e.account_id) for e in events] == \
        [("home_contract_opened", STAFF.staff_id, account.id)]
    assert opened.password not in events[0].detail


def test_the_same_submission_opens_one_contract_and_shows_no_password_again(db_session, customer, tariff):
    first = open_contract(db_session, customer, tariff)
    again = open_contract(db_session, customer, tariff, address="Another street 5")
    assert again.account.id == first.account.id and again.password is None
    assert db_session.scalar(select(func.count()).select_from(HomeContract)) == 1
    assert db_session.scalar(select(ProcessedRequest.action)) == "home_contract_opened"


def test_contract_numbers_are_unique(db_session, customer, tariff, monkeypatch):
    taken = factories.make_home_contract(db_session, "HC-123456").home_contract.contract_no
    db_session.commit()
    draws = iter([123456 - 100000, 654321 - 100000])
    monkeypatch.setattr(home_contracts.secrets, "randbelow", lambda n: next(draws))
    assert home_contracts.new_contract_no(db_session) == "HC-654321" != taken


@pytest.mark.parametrize(("values", "field"), [
    ({"address": "abc"}, "address"),
    ({"connection_type": "wifi"}, "connection_type"),
    ({"billing_day": 0}, "billing_day"),
    ({"billing_day": 29}, "billing_day"),
    ({"contact_phone": ""}, "contact_phone"),
    ({"idempotency_key": "short"}, None),
])
def test_bad_values_are_refused_on_their_field_and_nothing_is_opened(app, db_session, customer, tariff, values,
                                                                       field):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        open_contract(db_session, customer, tariff, **values)
    assert refused.value.field == field
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Account).where(Account.kind == "home")) == 0


def test_only_an_offered_home_tariff_and_a_known_customer(app, db_session, customer, tariff):
    mobile = factories.make_tariff(db_session, kind="mobile")
    archived = factories.make_tariff(db_session, kind="home", archived=True)
    db_session.commit()
    for other in (mobile.id, archived.id, 999999):
        with app.test_request_context(), pytest.raises(DomainError) as refused:
            open_contract(db_session, customer, tariff, tariff_id=other)
        assert refused.value.field == "tariff_id"
    with pytest.raises(NotFound):
        open_contract(db_session, customer, tariff, customer_id=999999)


@pytest.fixture
def contract_of(db_session, customer):
    account = factories.make_home_contract(db_session, "HC-777777", customer=customer)
    db_session.commit()
    return account


@pytest.mark.parametrize(("status", "action"), list(home_contracts.STATUS_ACTIONS.items()))
def test_every_status_change_is_audited_with_its_reason(db_session, contract_of, status, action):
    if status == "active":
        contract_of.status = "suspended"
        db_session.commit()
    home_contracts.change_home_status(db_session, account_id=contract_of.id, status=status, reason=" Ticket  42 ",
                                      actor=STAFF, now=NOW)
    db_session.expire_all()
    assert db_session.get(Account, contract_of.id).status == status
    event = db_session.scalar(select(AuditEvent))
    assert (event.action, event.account_id, event.staff_id, event.created_at) == \
        (action, contract_of.id, STAFF.staff_id, NOW)
    assert event.detail.endswith(f"→ {status}: Ticket 42")


@pytest.mark.parametrize(("status", "reason", "field"), [
    ("terminated", "Moving", "new_status"), ("gone", "Moving", "new_status"), ("suspended", " ", "reason"),
    ("active", "Already", "new_status"),
])
def test_bad_status_changes_are_refused(app, db_session, contract_of, status, reason, field):
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        home_contracts.change_home_status(db_session, account_id=contract_of.id, status=status, reason=reason,
                                          actor=STAFF, now=NOW)
    assert refused.value.field == field
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_an_ended_contract_or_a_mobile_line_cannot_change(app, db_session, contract_of, customer):
    contract_of.status = "terminated"
    line = factories.make_line(db_session, customer=customer)
    db_session.commit()
    with app.test_request_context(), pytest.raises(DomainError):
        home_contracts.change_home_status(db_session, account_id=contract_of.id, status="active", reason="Oops",
                                          actor=STAFF, now=NOW)
    for account_id in (line.id, 999999):
        with pytest.raises(NotFound):
            home_contracts.change_home_status(db_session, account_id=account_id, status="suspended",
                                              reason="Test", actor=STAFF, now=NOW)
        with pytest.raises(NotFound):
            home_contracts.home_account(db_session, account_id)
    db_session.expire_all()
    assert db_session.get(Account, line.id).status == "active"
