"""A notice for the demo home contract's building: on the contract's dashboard, on its public page, on /status.

JavaScript on and off. Elements are found by id, name or link target, not by their words (except the title
the demo publishes).
"""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.demo import DEMO_NOTICE
from portal.models import ServiceNotice
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


def demo_notice_id(live_server) -> int:
    with live_server.app_context() as session:
        return session.scalar(select(ServiceNotice.id).where(ServiceNotice.title == DEMO_NOTICE["title"]))


@JS
def test_the_building_notice_is_on_the_home_dashboard_and_the_status_page(page_factory, live_server, demo_family,
                                                                         js):
    notice_id = demo_notice_id(live_server)
    page = page_factory(js=js)
    page.goto("/auth/login")
    sign_in(page, "+79161234567", factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#notices")).to_have_count(0)  # the head's mobile line is not in the building
    switcher = page.locator("form.switcher")
    switcher.locator("#switch-account").select_option(str(demo_family["home"]))
    if not js:
        switcher.locator("button[type=submit]").click()
    expect(page.locator("#switch-account")).to_have_value(str(demo_family["home"]))
    card = page.locator(f"#notices #notice-{notice_id}")
    expect(card).to_contain_text(DEMO_NOTICE["title"])

    card.locator("a").click()
    expect(page).to_have_url(url_path_is(f"/status/{notice_id}"))
    expect(page.locator("h1")).to_have_text(DEMO_NOTICE["title"])
    expect(page.locator("#notice-state")).to_be_visible()
    page.locator("main a[href^='/status?']").first.click()
    expect(page).to_have_url(url_path_is("/status"))
    expect(page.locator(f"#current #notice-{notice_id}")).to_contain_text(DEMO_NOTICE["title"])


@JS
def test_the_status_page_works_signed_out_in_both_languages(page_factory, live_server, demo_family, js):
    notice_id = demo_notice_id(live_server)
    page = page_factory(js=js)
    page.goto("/status")
    expect(page.locator(f"#current #notice-{notice_id}")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the tests' default language
    page.locator("footer a[lang=ru]").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator(f"#current #notice-{notice_id}")).to_be_visible()
    expect(page.locator("meta[name=csrf-token]")).to_have_count(0)
