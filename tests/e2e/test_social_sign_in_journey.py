"""Sign-in with an outside account, JavaScript on and off, against the identity provider on loopback: the customer
links it on the devices page, signs out, signs in with it, and unlinks it; an unlinked account is offered for
linking only after the number's sign-in, and only with a yes."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is
from tests.fake_oidc import running_provider

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture(scope="module")
def fake():
    with running_provider() as fake:
        yield fake


@pytest.fixture
def config_overrides(fake):
    fake.reset()
    return {"SOCIAL_PROVIDERS": {"fake": fake.settings()["fake"]}}


def choose_test_user(page, user: str) -> None:
    """At the provider's page (another origin): sign in as one of its test users."""
    page.get_by_role("button", name=f"Sign in as test user {user}").click()


@JS
def test_link_sign_out_sign_in_with_it_and_unlink(page_factory, live_server, js):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/settings/sessions")
    page.get_by_role("link", name="Link Fake ID").click()
    choose_test_user(page, "1")
    expect(page).to_have_url(url_path_is("/settings/sessions"))
    expect(page.locator(".flash")).to_contain_text("Fake ID is linked")
    expect(page.locator("#social-accounts")).to_contain_text("te***@example.com")

    page.locator("header form[action='/auth/logout'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/auth/login"))
    page.get_by_role("link", name="Sign in with Fake ID").click()
    choose_test_user(page, "1")
    expect(page).to_have_url(url_path_is("/"))

    page.goto("/settings/sessions")
    page.locator("#social-accounts").get_by_role("link", name="Unlink").click()
    page.locator("#social-unlink button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Fake ID is unlinked")
    expect(page.locator("#social-accounts")).not_to_contain_text("te***@example.com")


@JS
def test_an_unlinked_account_is_linked_after_the_numbers_sign_in_and_a_yes(page_factory, live_server, js):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)
    page = page_factory(js)
    page.goto("/auth/login")
    page.get_by_role("link", name="Sign in with Fake ID").click()
    choose_test_user(page, "2")
    expect(page.locator("#social-not-linked")).to_contain_text("is not linked to a personal account")
    page.get_by_role("link", name="Sign in with the number").click()
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/auth/social/confirm"))
    page.locator("#social-confirm button[value=link]").click()
    expect(page).to_have_url(url_path_is("/settings/sessions"))
    expect(page.locator("#social-accounts")).to_contain_text("te***@example.com")
