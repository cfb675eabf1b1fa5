"""The customer page for staff: /admin/customers/<id>."""
import gzip
import re
from datetime import datetime, timedelta

import pytest

from portal.models import Account, HomeContract, LedgerEntry
from tests import factories
from tests.web.admin.test_admin import staff_sign_in

BUDGET = 14 * 1024
START = datetime(2026, 10, 1, 9, 0)


@pytest.fixture
def staff(client, db_session):
    factories.make_staff(db_session)  # support: looking is allowed
    assert staff_sign_in(client).status_code == 303
    return client


def entries(db_session, account, n, *, start=START):
    for i in range(n):
        db_session.add(LedgerEntry(account_id=account.id, amount=-(100 + i), kind="usage",
                                   description=f"entry {account.id}-{i:02d}", created_at=start + timedelta(hours=i)))
    db_session.flush()


def make_home(db_session, customer, tariff, contract_no="H-2024-001"):
    account = Account(customer=customer, kind="home", region=customer.region, tariff=tariff, balance=-2500,
                      status="suspended")
    db_session.add_all([account, HomeContract(account=account, contract_no=contract_no,
                                              address="Lenina 1, flat 2", connection_type="gpon")])
    db_session.flush()
    return account


@pytest.fixture
def family(db_session):
    customer = factories.make_customer(db_session, name="Anna Petrova", contract_no="C-424242",
                                       region="Saint Petersburg")
    smart = factories.make_tariff(db_session, name="Smart", code="smart", monthly_fee=55000)
    line = factories.make_line(db_session, "+79161234567", customer=customer, tariff=smart, balance=12345)
    who = factories.make_service(db_session, name="Who called", monthly_fee=1500)
    cinema = factories.make_service(db_session, name="Online cinema", category="subscription", monthly_fee=29900)
    ended = factories.make_service(db_session, name="Old roaming", monthly_fee=9900)
    factories.make_subscription(db_session, line, who)
    factories.make_subscription(db_session, line, cinema)
    factories.make_subscription(db_session, line, ended, status="ended")
    entries(db_session, line, 25)
    home = make_home(db_session, customer, factories.make_tariff(db_session, name="Home 500", kind="home"))
    entries(db_session, home, 3)
    other = factories.make_line(db_session, "+79031112233")  # someone else's
    entries(db_session, other, 2)
    db_session.commit()
    return customer, line, home


def test_the_page_shows_the_customer_and_every_account(staff, family):
    customer, line, _home = family
    page = staff.get(f"/admin/customers/{customer.id}")
    assert page.status_code == 200
    html = page.text
    for shown in ("Anna Petrova", "C-424242", "Saint Petersburg",
                  "+7 916 123-45-67", "Mobile", "Active", "123.45", "Smart (smart)", "550.00",
                  "Who called", "15.00", "Online cinema", "299.00",
                  "Home contract H-2024-001", "Home internet", "Lenina 1, flat 2", "Suspended for debt",
                  "Home 500"):
        assert shown in html, shown
    assert re.search(r'<span class="money negative">[^<]*25\.00</span>', html)
    assert "Old roaming" not in html  # ended subscriptions are not connected services
    services = html.split("Connected services")[1].split("Paid subscriptions")[0]
    assert "Who called" in services and "Online cinema" not in services
    assert "+7 903 111-22-33" not in html and f"entry {line.id + 2}" not in html


def test_each_account_shows_its_last_twenty_entries_newest_first(staff, family):
    customer, line, home = family
    html = staff.get(f"/admin/customers/{customer.id}").text
    section = html.split(f'id="account-{line.id}"')[1].split("</section>")[0]
    assert section.count("<tr><td>") == 20
    # The newest is the opening balance make_line wrote just now, then 19 of the 25 above.
    assert "Adjustment" in section.split("<tbody>")[1].split("</tr>")[0]
    assert re.findall(rf"entry {line.id}-(\d\d)", html) == [f"{i:02d}" for i in range(24, 5, -1)]
    assert re.findall(rf"entry {home.id}-(\d\d)", html) == ["02", "01", "00"]


def test_the_search_results_link_to_the_page(staff, family):
    customer, _line, _home = family
    html = staff.get("/admin/", query_string={"q": "Petrova"}).text
    assert f'href="/admin/customers/{customer.id}"' in html


def test_an_unknown_customer_is_404(staff):
    assert staff.get("/admin/customers/999999").status_code == 404


def test_the_page_needs_staff(client, family, login_as):
    customer, _line, _home = family
    assert client.get(f"/admin/customers/{customer.id}").status_code == 302
    login_as("+79161234567")  # the customer themselves is not staff
    response = client.get(f"/admin/customers/{customer.id}")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_a_customer_without_accounts_has_a_page_too(staff, db_session):
    customer = factories.make_customer(db_session, name="Nobody Yet")
    db_session.commit()
    page = staff.get(f"/admin/customers/{customer.id}")
    assert page.status_code == 200 and "This customer has no accounts." in page.text


def test_the_query_count_does_not_grow_with_the_accounts(staff, db_session, family, count_queries):
    customer, _line, _home = family
    url = f"/admin/customers/{customer.id}"
    with count_queries() as few:
        assert staff.get(url).status_code == 200
    for n in range(6):
        line = factories.make_line(db_session, f"+7916000000{n}", customer=customer)
        factories.make_subscription(db_session, line, factories.make_service(db_session))
        entries(db_session, line, 22)
    db_session.commit()
    with count_queries() as many:
        page = staff.get(url)
    assert page.status_code == 200 and "+7 916 000-00-05" in page.text
    # 11: the lines' content bans since issue 18; 12: the family locator's consents (issue 18, point 2);
    # 13: the lines' SIM locks, port-outs and actions awaiting a check (issue 18, point 3);
    # 14: the logins' ways in (passkeys, linked accounts, feed keys, open sessions) in one UNION ALL
    assert len(many) == len(few) <= 14, many


def test_a_busy_customer_fits_the_page_budget(staff, db_session, family):
    customer, _line, _home = family
    for n in range(3):
        line = factories.make_line(db_session, f"+7916000001{n}", customer=customer)
        entries(db_session, line, 30)
    db_session.commit()
    page = staff.get(f"/admin/customers/{customer.id}")
    assert len(gzip.compress(page.data)) <= BUDGET


def test_states_and_kinds_are_words_and_times_are_in_the_operators_zone(staff, db_session, family):
    from portal.models import CardPayment, SmsMessage

    _customer, line, _home = family
    db_session.add(LedgerEntry(account_id=line.id, amount=-500, kind="promised_repay", description="",
                               created_at=datetime(2026, 12, 31, 22, 30)))  # 01:30 on 1 January in Moscow
    db_session.add(CardPayment(token="t-3ds", account_id=line.id, amount=10000, status="declined",
                               idempotency_key="k-3ds", decline_reason="3ds_failed", card_last4="4242",
                               created_at=START))
    db_session.add(SmsMessage(to="+79161234567", text="hello", purpose="transfer_code", status="queued"))
    db_session.commit()
    html = staff.get(f"/admin/customers/{_customer.id}").text
    assert "Promised payment repaid" in html and "promised_repay" not in html
    assert "declined (3-D Secure not passed)" in html and "3ds_failed" not in html
    assert "01/01/2027, 1:30" in html  # the staff member has no zone: the operator's default one
    outbox = staff.get("/admin/sms").text
    assert "<td>transfer code</td><td>queued" in outbox and "transfer_code" not in outbox
    assert "(support)" in outbox and "Support: 0890" not in outbox  # no customers' footer on staff pages
