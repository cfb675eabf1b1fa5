"""Home contracts for staff: opening one with its login (password shown once), its status, the customer page."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.passwords import check_secret
from portal.models import (
    Account,
    AuditEvent,
    HomeContract,
    LedgerEntry,
    Login,
    LoginAccount,
    UsageRecord,
    utcnow,
)
from tests import factories
from tests.helpers import key_of
from tests.web.admin.test_terminate import staff_client


@pytest.fixture
def customer(db_session):
    customer = factories.make_customer(db_session, name="Anna Petrova")
    factories.make_line(db_session, "+79161234567", customer=customer)
    db_session.commit()
    return customer


@pytest.fixture
def tariff(db_session):
    tariff = factories.make_tariff(db_session, kind="home", name="Home 500", code="home-500", unlimited_data=True)
    db_session.commit()
    return tariff


@pytest.fixture
def admin(app, db_session):
    return staff_client(app, db_session, "admin")


def new_url(customer):
    return f"/admin/customers/{customer.id}/home-contracts/new"


def fields(tariff, **values):
    return {"address": "Moscow, Profsoyuznaya 65, flat 118", "connection_type": "gpon", "tariff_id": tariff.id,
            "contact_phone": "8 916 123-45-67", "billing_day": "15", **values}


def test_an_admin_opens_a_contract_and_sees_the_password_once(app, admin, db_session, customer, tariff):
    page = admin.get(new_url(customer))
    assert page.status_code == 200 and "Home 500 (home-500)" in page.text
    key = key_of(page.text)
    response = admin.post_form(new_url(customer), {**fields(tariff), "idempotency_key": key})
    assert response.status_code == 200
    number = re.search(r'id="contract-no">(HC-\d{6})<', response.text).group(1)
    password = re.search(r'id="initial-password">([a-z0-9]+)<', response.text).group(1)
    contract = db_session.scalar(select(HomeContract).where(HomeContract.contract_no == number))
    assert contract.address == "Moscow, Profsoyuznaya 65, flat 118" and contract.connection_type == "gpon"
    assert contract.billing_day == 15 and contract.contact_phone == "+79161234567"
    account = db_session.get(Account, contract.account_id)
    assert account.customer_id == customer.id and account.kind == "home" and account.tariff_id == tariff.id
    login = db_session.scalar(select(Login).where(Login.primary_account_id == account.id))
    assert login.must_change_password and password not in login.password_hash
    assert check_secret(login.password_hash, password)
    assert db_session.scalar(select(LoginAccount.account_id).where(LoginAccount.login_id == login.id)) == account.id
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "home_contract_opened"))
    assert event.staff_id and event.account_id == account.id and number in event.detail
    assert password not in event.detail
    # A double click: the same contract, no second one, and no password any more.
    again = admin.post_form(new_url(customer), {**fields(tariff), "idempotency_key": key})
    assert again.status_code == 200 and number in again.text and "initial-password" not in again.text
    assert db_session.scalar(select(func.count()).select_from(HomeContract)) == 1
    # The customer signs in with the contract number and must choose a password first.
    customer_client = app.test_client()
    signed_in = customer_client.post_form("/auth/login", {"phone": number, "password": password})
    assert signed_in.status_code == 303
    assert customer_client.get("/").location.endswith("/settings/password")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"address": ""}, "address", "Enter the address."),
    ({"address": "x"}, "address", "Enter the full address"),
    ({"connection_type": "wifi"}, "connection_type", "Choose from the list."),
    ({"tariff_id": "999999"}, "tariff_id", "Choose from the list."),
    ({"contact_phone": "12"}, "contact_phone", ""),
    ({"contact_phone": ""}, "contact_phone", ""),
    ({"billing_day": "31"}, "billing_day", "Enter a day from 1 to 28."),
    ({"billing_day": "first"}, "billing_day", ""),
])
def test_bad_input_is_422_next_to_the_field_and_opens_nothing(admin, db_session, customer, tariff, change, field,
                                                                message):
    key = key_of(admin.get(new_url(customer)).text)
    response = admin.post_form(new_url(customer), {**fields(tariff, **change), "idempotency_key": key})
    assert response.status_code == 422
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', response.text)
    assert message in response.text
    assert db_session.scalar(select(func.count()).select_from(HomeContract)) == 0


def test_a_mobile_or_archived_tariff_is_not_offered(admin, db_session, customer, tariff):
    mobile = factories.make_tariff(db_session, kind="mobile")
    old = factories.make_tariff(db_session, kind="home", archived=True)
    db_session.commit()
    page = admin.get(new_url(customer)).text
    for other in (mobile, old):
        assert f'value="{other.id}"' not in page
        response = admin.post_form(new_url(customer), {**fields(tariff, tariff_id=other.id),
                                                       "idempotency_key": key_of(page)})
        assert response.status_code == 422


def test_an_unknown_customer_is_404_and_csrf_is_required(admin, db_session, customer, tariff):
    assert admin.get("/admin/customers/999999/home-contracts/new").status_code == 404
    key = key_of(admin.get(new_url(customer)).text)
    response = admin.post(new_url(customer), data={**fields(tariff), "idempotency_key": key})
    assert response.status_code in (400, 422)
    assert db_session.scalar(select(func.count()).select_from(HomeContract)) == 0


def test_support_staff_get_403_and_customers_are_sent_away(app, db_session, customer, tariff, client, login_as):
    support = staff_client(app, db_session, "support")
    assert support.get(new_url(customer)).status_code == 403
    assert support.post_form(new_url(customer), fields(tariff)).status_code == 403
    assert "home-contracts/new" not in support.get(f"/admin/customers/{customer.id}").text
    login_as("+79161234567")
    assert client.get(new_url(customer)).status_code == 302


# ---- status --------------------------------------------------------------------------------------------------


@pytest.fixture
def home(db_session, customer):
    account = factories.make_home_contract(db_session, "HC-123456", customer=customer)
    db_session.commit()
    return account


def status_url(account):
    return f"/admin/accounts/{account.id}/home-status"


@pytest.mark.parametrize(("status", "action"), [("suspended", "account_suspended"),
                                                ("blocked_by_owner", "contract_paused")])
def test_an_admin_changes_the_status_with_a_reason_and_back(admin, db_session, home, status, action):
    assert status_url(home) in admin.get(f"/admin/customers/{home.customer_id}").text
    assert admin.get(status_url(home)).status_code == 200
    response = admin.post_form(status_url(home), {"new_status": status, "reason": "Customer called, ticket 77"})
    assert response.status_code == 303 and f"#account-{home.id}" in response.location
    db_session.expire_all()
    assert db_session.get(Account, home.id).status == status
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == action))
    assert event.staff_id and event.account_id == home.id and "ticket 77" in event.detail
    response = admin.post_form(status_url(home), {"new_status": "active", "reason": "Back on"})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Account, home.id).status == "active"
    assert db_session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "account_restored"


@pytest.mark.parametrize(("data", "message"), [
    ({"new_status": "suspended", "reason": ""}, "Give the reason."),
    ({"new_status": "terminated", "reason": "Moving"}, "Choose from the list."),
    ({"reason": "Moving"}, "Choose from the list."),
    ({"new_status": "active", "reason": "Already active"}, "already has this status"),
])
def test_a_bad_status_change_is_422_and_changes_nothing(admin, db_session, home, data, message):
    response = admin.post_form(status_url(home), data)
    assert response.status_code == 422 and message in response.text
    db_session.expire_all()
    assert db_session.get(Account, home.id).status == "active"
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(("account_suspended", "account_restored")))) == 0


def test_an_ended_contract_keeps_its_status(admin, db_session, home):
    home.status = "terminated"
    db_session.commit()
    assert "already ended" in admin.get(status_url(home)).text
    response = admin.post_form(status_url(home), {"new_status": "active", "reason": "Oops"})
    assert response.status_code == 422 and "has ended" in response.text


def test_status_404_for_a_mobile_line_or_unknown_id_403_for_support_and_csrf(app, admin, db_session, home,
                                                                              customer):
    line = db_session.scalar(select(Account).where(Account.kind == "mobile", Account.customer_id == customer.id))
    assert admin.get(status_url(line)).status_code == 404
    assert admin.post_form(status_url(line), {"new_status": "suspended", "reason": "Test"}).status_code == 404
    assert admin.get("/admin/accounts/999999/home-status").status_code == 404
    tokenless = admin.post(status_url(home), data={"new_status": "suspended", "reason": "No token"})
    assert tokenless.status_code in (400, 422)
    support = staff_client(app, db_session, "support")
    assert support.get(status_url(home)).status_code == 403
    assert support.post_form(status_url(home), {"new_status": "suspended", "reason": "Test"}).status_code == 403
    db_session.expire_all()
    assert db_session.get(Account, home.id).status == "active"


# ---- the customer page ---------------------------------------------------------------------------------------


def test_the_customer_page_shows_this_periods_traffic_and_payments(app, db_session, home, count_queries):
    today = utcnow().date()
    start = datetime.combine(today.replace(day=1), datetime.min.time())
    db_session.add_all([
        UsageRecord(account_id=home.id, started_at=start + timedelta(hours=1), kind="data", quantity=3 * 1024 * 1024),
        UsageRecord(account_id=home.id, started_at=start - timedelta(hours=1), kind="data", quantity=9 * 1024 * 1024),
    ])
    factories.make_staff(db_session, email="support@example.com", role="support")
    db_session.add(LedgerEntry(account_id=home.id, amount=150000, kind="card_topup", description="Card *4417"))
    db_session.commit()
    support = app.test_client()
    support.post_form("/admin/login", {"email": "support@example.com", "password": factories.PASSWORD})
    with count_queries() as statements:
        page = support.get(f"/admin/customers/{home.customer_id}")
    assert page.status_code == 200
    section = page.text.split(f'id="account-{home.id}"')[1]
    assert re.search(r'class="traffic">3(\.0)? GB', section)  # this period only, not last month's 9 GB
    assert "Card *4417" in section
    assert "home-status" not in section  # support may look only
    # 13: the lines' SIM locks, port-outs and waiting actions; 14: locator; 15: the logins' ways in (one UNION ALL)
    assert len(statements) <= 15, statements
