"""A home customer opens the TV page from the dashboard, reads a package's channels, connects it (after its
price), and sets the parental PIN (a mistyped confirmation first), in a real browser with JavaScript on and off."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.passwords import check_secret
from portal.models import ParentalPin, Subscription
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is
from tests.home_fixtures import CONTRACT_NO, make_home_with_catalog

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def home(live_server):
    with live_server.app_context() as session:
        home = make_home_with_catalog(session)
        factories.make_login(session, home.account)
        session.commit()
        return {"account": home.account.id, "night": home.night.id}


@JS
def test_connect_a_tv_package_and_set_the_parental_pin(page_factory, live_server, home, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, CONTRACT_NO, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))

    page.locator("#home-tv a[href='/home/tv']").click()
    expect(page).to_have_url(url_path_is("/home/tv"))
    expect(page.locator("#parental-pin")).to_contain_text("not set")
    package = page.locator(f"#tv-{home['night']}")
    expect(package.locator("details li")).not_to_be_visible()
    package.locator("summary").click()
    expect(package.locator("details li")).to_contain_text("Ночной клуб 18+")

    package.locator(f"a[href='/home/tv/{home['night']}/connect']").click()
    expect(page).to_have_url(url_path_is(f"/home/tv/{home['night']}/connect"))
    expect(page.locator(".costs")).to_contain_text("Charged now")
    page.locator(f"#connect-{home['night']} button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/home/tv"))
    expect(page.locator(".flash")).to_contain_text("is connected")
    expect(page.locator(f"#tv-{home['night']} .badge", has_text="connected")).to_be_visible()

    page.locator("#parental-pin a").click()
    expect(page).to_have_url(url_path_is("/home/tv/pin"))
    form = page.locator("#pin-form")
    form.locator("input[name=pin]").fill("4821")
    form.locator("input[name=confirm]").fill("4812")
    form.locator("button[type=submit]").click()
    expect(page.locator("#pin-form .error")).to_contain_text("differ")
    page.locator("#pin-form input[name=pin]").fill("4821")
    page.locator("#pin-form input[name=confirm]").fill("4821")
    page.locator("#pin-form button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/home/tv"))
    expect(page.locator("#parental-pin")).to_contain_text("is set")

    with live_server.app_context() as session:
        assert session.scalar(select(Subscription.status).where(Subscription.service_id == home["night"])) == "active"
        assert check_secret(session.get(ParentalPin, home["account"]).pin_hash, "4821")
