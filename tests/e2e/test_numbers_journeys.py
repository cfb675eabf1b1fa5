"""Several numbers under one login, in a real browser with JavaScript on and off.

The family head asks to add the child's number, staff approve it in the admin
area, the head switches to the child's number in the header, and every page
then shows the child's line; finally the number is removed from the list.
"""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import LinkRequest, LoginAccount
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

HEAD, CHILD = "+79161234567", "+79161234568"
STAFF_EMAIL = "agent@example.com"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def family(live_server):
    with live_server.app_context() as session:
        head = factories.make_line(session, HEAD, balance=50_000)
        login = factories.make_login(session, head)
        child = factories.make_line(session, CHILD, customer=head.customer, balance=7_700)
        service = factories.make_service(session, category="number_management", monthly_fee=0)
        for account in (head, child):
            factories.make_subscription(session, account, service)
        factories.make_staff(session, email=STAFF_EMAIL)
        session.commit()
        return {"head": head.id, "child": child.id, "login": login.id}


def staff_approves_the_request(page, request_id: int) -> None:
    page.goto("/admin/login")
    page.locator("main form input[name=email]").fill(STAFF_EMAIL)
    page.locator("main form input[name=password]").fill(factories.PASSWORD)
    page.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/"))
    page.locator("a[href='/admin/links']").first.click()
    expect(page).to_have_url(url_path_is("/admin/links"))
    page.locator(f"a[href='/admin/links/{request_id}']").click()
    page.locator("#approve button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/links"))
    expect(page.locator("main")).not_to_contain_text("916 123-45-68")


@JS
def test_add_a_number_have_it_approved_switch_and_remove_it(page_factory, live_server, family, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, "8 916 123-45-67", factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#switch-account")).to_have_count(0)  # one number: no switcher

    page.locator("nav a[href='/numbers/']").click()
    page.locator("main a[href='/numbers/link']").click()
    form = page.locator("#link-form")
    form.locator("textarea[name=numbers]").fill("+7 903 000-00-00")  # not the owner's
    form.locator("button[type=submit]").click()
    expect(page.locator("#link-form .error")).to_be_visible()
    page.locator("#link-form textarea[name=numbers]").fill("8 916 123-45-68")
    page.locator("#link-form button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/numbers/"))
    expect(page.locator("#link-requests")).to_contain_text("916 123-45-68")

    with live_server.app_context() as session:
        request_id = session.scalar(select(LinkRequest.id).where(LinkRequest.status == "pending"))
        assert session.get(LoginAccount, (family["login"], family["child"])) is None  # not before the review
    staff_approves_the_request(page_factory(js), request_id)

    page.goto("/")
    switcher = page.locator("form.switcher")
    expect(switcher.locator("#switch-account option")).to_have_count(2)
    switcher.locator("#switch-account").select_option(str(family["child"]))
    if not js:  # with JavaScript choosing switches at once; without it the button does
        switcher.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("main")).to_contain_text("916 123-45-68")
    expect(page.locator("#switch-account")).to_have_value(str(family["child"]))

    page.goto(f"/numbers/{family['child']}/unlink")
    page.locator("main form input[name=confirm]").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/numbers/"))
    expect(page.locator("#switch-account")).to_have_count(0)
    expect(page.locator("#numbers")).not_to_contain_text("916 123-45-68")
    with live_server.app_context() as session:
        assert session.get(LoginAccount, (family["login"], family["child"])) is None


@pytest.fixture
def home(live_server, family):
    with live_server.app_context() as session:
        from portal.models import Account, HomeContract

        head = session.get(Account, family["head"])
        account = Account(customer_id=head.customer_id, kind="home", region=head.region, balance=30_000)
        session.add_all([account, HomeContract(account=account, contract_no="HC-100200", address="Moscow, Tverskaya 1",
                                               connection_type="gpon", contact_phone=HEAD)])
        session.commit()
        return account.id


def last_code(live_server, purpose: str) -> str:
    import re

    from portal.models import SmsMessage

    with live_server.app_context() as session:
        text = session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == purpose)
                               .order_by(SmsMessage.id.desc())).first()
        return re.search(r"\b(\d{6})\b", text).group(1)


@JS
def test_add_the_home_contract_and_switch_between_mobile_and_home(page_factory, live_server, family, home, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, HEAD, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/numbers/")
    page.locator("main a[href='/numbers/home']").click()
    page.locator("#home-link-form input[name=contract]").fill("hc-100200")
    page.locator("#home-link-form button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/numbers/home/confirm"))
    page.locator("#home-code-form input[name=code]").fill(last_code(live_server, "home_link_code"))
    page.locator("#home-code-form button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#switch-account")).to_have_value(str(home))  # the new contract is in focus
    switcher = page.locator("form.switcher")
    switcher.locator("#switch-account").select_option(str(family["head"]))
    if not js:
        switcher.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("916 123-45-67")


@JS
def test_sign_in_with_the_contract_number(page_factory, live_server, home, js):
    with live_server.app_context() as session:
        from portal.models import Account

        factories.make_login(session, session.get(Account, home))
        session.commit()
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, "HC-100200", factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/settings/contracts")
    expect(page.locator("#contracts")).to_contain_text("HC-100200")
