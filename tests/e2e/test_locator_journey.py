"""The family locator, JavaScript on and off: the seeker asks for a number, reads the code the holder got (the /dev/sms
outbox), is granted, locates them (the place, the accuracy, the time, a geo: link); the holder sees the lookup and
revokes; locating is then refused."""
import re

import pytest
from playwright.sync_api import expect

from portal.domain import locator
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
SEEKER, HOLDER = "+79161234567", "+79162223344"


@JS
def test_ask_confirm_locate_then_the_holder_revokes(page_factory, live_server, js):
    with live_server.app_context() as session:
        seeker = factories.ensure_login(session, SEEKER).primary_account
        service = factories.make_service(session, code=locator.SERVICE, name="Где мои близкие",
                                         name_en="Family locator", category="security")
        factories.make_subscription(session, seeker, service)
        factories.ensure_login(session, HOLDER)
        session.commit()
        service_id = service.id
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, SEEKER, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/services/")
    page.locator(f"#service-{service_id}").get_by_role("link", name="Open").click()
    expect(page).to_have_url(url_path_is("/locator/"))

    ask = page.locator("#ask-form")
    ask.locator("input[name=msisdn]").fill("8 916 222-33-44")
    ask.locator("button[type=submit]").click()
    expect(page.locator("#ask-form")).to_contain_text("Give them a name")
    page.locator("#ask-form input[name=name]").fill("Mum")
    page.locator("#ask-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("If the number can be located, we have sent it an SMS")
    person = page.locator("#people li").first
    expect(person).to_contain_text("waiting for consent")

    page.goto("/dev/sms")
    text = page.locator(".sms-list li").filter(has_text="asks to see where you are").first.inner_text()
    code = re.search(r"code (\d{6})", text).group(1)
    page.goto("/locator/")
    page.locator("#people input[name=code]").fill(code)
    page.locator("#people .code-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Consent is given")
    page.get_by_role("button", name="Locate now").click()
    person = page.locator("#people li").first
    expect(person).to_contain_text(re.compile(r"± \d+ m"))
    geo = person.get_by_role("link", name="Open in the map app")
    assert re.fullmatch(r"geo:55\.\d{5},3[67]\.\d{5};u=\d+", geo.get_attribute("href"))

    holder = page_factory(js)
    holder.goto("/auth/login")
    sign_in(holder, HOLDER, factories.PASSWORD)
    expect(holder).to_have_url(url_path_is("/"))
    holder.goto("/settings/")
    holder.get_by_role("link", name="Who can see where I am").click()
    expect(holder.locator("#lookups li")).to_have_count(1)
    expect(holder.locator("#seekers")).to_contain_text("+7 916 123-45-67")
    holder.get_by_role("button", name="Withdraw consent").click()
    expect(holder.locator(".flash")).to_contain_text("Consent withdrawn")

    page.reload()
    expect(page.locator("#people li").first).to_contain_text("consent withdrawn")
    expect(page.get_by_role("button", name="Locate now")).to_have_count(0)
