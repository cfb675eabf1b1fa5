"""Every customer page on a 360 × 740 phone: nothing scrolls sideways, the tab bar is there.

The demo data (six months of calls, payments, services) is loaded, the family head's
login manages the child's line and the home contract, and a crawler follows every
link of the portal from the dashboard: as the head's own line, as the child's line
(chosen in the header's switcher, which submits on change) and as the home contract.
"""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.crawl import crawl
from tests.e2e.test_page_quality import add_support_thread
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

PHONE = {"width": 360, "height": 740}
CONTRACT = "HC-100200"


# The gap between a card's top padding and its first visible child, in px (the card's own padding aside).
CARD_TOP_GAP = """() => [...document.querySelectorAll('.card')].filter(c => c.offsetParent).map(card => {
  const first = [...card.children].find(c => c.offsetParent && c.getBoundingClientRect().height > 0);
  if (!first) return 0;
  const style = getComputedStyle(card);
  return first.getBoundingClientRect().top - card.getBoundingClientRect().top
    - parseFloat(style.paddingTop) - parseFloat(style.borderTopWidth);
}).reduce((a, b) => Math.max(a, b), 0)"""


def too_wide_pages(page) -> dict[str, int]:
    """Visit every page reachable from the dashboard; return those wider than the screen, or with a card whose
    first line starts below an empty one (a hidden input or a paragraph's top margin before it)."""
    too_wide = {}

    def measure(page, href, response):
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[href] = width
        gap = page.evaluate(CARD_TOP_GAP)
        if gap > 2:
            too_wide[href] = f"a card starts {gap:.0f} px low"

    seen = crawl(page, measure)
    assert len(seen) > 25, f"the crawl found only {seen}"
    return too_wide


def test_no_customer_page_scrolls_sideways_on_a_phone(page_factory, live_server, demo_family):
    with live_server.app_context() as session:
        add_support_thread(session, account_id=demo_family["head"],
                           staff_id=factories.make_staff(session, email="layout@example.com").id,
                           files_dir=live_server.app.config["SUPPORT_ATTACHMENTS_DIR"])
    page = page_factory(True)
    page.set_viewport_size(PHONE)
    page.goto("/auth/login")
    sign_in(page, "8 916 123-45-67", factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))

    tabs = page.locator("nav.tabs")
    expect(tabs).to_be_visible()
    box = tabs.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(PHONE["height"], abs=1), "the tab bar sits at the bottom"
    for link in tabs.locator("a").all():
        assert link.bounding_box()["height"] >= 44, "touch targets are at least 44 px"

    assert too_wide_pages(page) == {}, "pages that do not fit the phone (own line)"

    # The switcher submits as soon as a number is chosen: no button with JavaScript on.
    page.goto("/")
    expect(page.locator(".switcher button")).to_have_count(0)
    page.locator("#switch-account").select_option(str(demo_family["child"]))
    expect(page.locator("main .number")).to_contain_text("916 123-45-68")
    assert too_wide_pages(page) == {}, "pages that do not fit the phone (child's line)"

    page.goto("/")
    page.locator("#switch-account").select_option(str(demo_family["home"]))
    expect(page.locator("main")).to_contain_text(CONTRACT)
    assert too_wide_pages(page) == {}, "pages that do not fit the phone (home contract)"


def test_the_switcher_works_without_javascript(page_factory, live_server, demo_family):
    page = page_factory(False)
    page.set_viewport_size(PHONE)
    page.goto("/auth/login")
    sign_in(page, "8 916 123-45-67", factories.PASSWORD)
    page.locator("#switch-account").select_option(str(demo_family["child"]))
    page.locator(".switcher button[type=submit]").click()
    expect(page.locator("main .number")).to_contain_text("916 123-45-68")


def test_the_desktop_shows_the_menu_in_the_header(page_factory, live_server, demo_family):
    page = page_factory(True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/auth/login")
    sign_in(page, "8 916 123-45-67", factories.PASSWORD)
    tabs = page.locator("nav.tabs")
    assert tabs.bounding_box()["y"] < 150, "the menu is at the top on a desktop"
    expect(page.locator("header .wide-only button", has_text="Sign out")).to_be_visible()
    # Two columns: the allowances sit beside the balance, not under it.
    assert page.locator("#allowances").bounding_box()["x"] > page.locator("#summary").bounding_box()["x"] + 300
