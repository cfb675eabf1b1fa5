"""The content-charge ban, JavaScript on and off: the customer switches it on from the subscriptions page, a
content provider's subscription through the gateway is then refused and shows on the page; off again, the next
one is connected."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
KEY = "gateway-key-0123456789"


@pytest.fixture
def config_overrides():
    return {"CONTENT_GATEWAY_TOKEN": KEY}


def provider_subscribes(page, request_id: str):
    return page.request.post("/gateway/content/subscriptions", headers={"Authorization": f"Bearer {KEY}"},
                             data={"msisdn": MSISDN, "service": "music-stream", "provider": "Acme Media",
                                   "request_id": request_id})


@JS
def test_the_ban_refuses_a_providers_subscription_and_lists_it(page_factory, live_server, js):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN).primary_account.balance = 100000
        factories.make_service(session, code="music-stream", name="Музыка", name_en="Music",
                               category="subscription", monthly_fee=19900)
        session.commit()
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/services/subscriptions")
    ban = page.locator("#content-ban")
    expect(ban).to_contain_text("off")
    ban.get_by_role("button", name="Switch the ban on").click()
    expect(page.locator(".flash")).to_contain_text("can no longer subscribe this number")
    expect(page.locator("#content-ban")).to_contain_text("sites and apps cannot subscribe")

    assert provider_subscribes(page, "r-1").status == 403
    page.reload()
    expect(page.locator("#content-refusals")).to_contain_text("Acme Media")
    expect(page.locator("#content-refusals")).to_contain_text("Music")

    page.locator("#content-ban").get_by_role("button", name="Switch the ban off").click()
    expect(page.locator(".flash")).to_contain_text("The ban is off")
    assert provider_subscribes(page, "r-2").status == 201
    page.reload()
    expect(page.locator("#subscription-1, main .rows").first).to_contain_text("Music")
