"""Tariffs and services in a real browser, with JavaScript on and off.

The dashboard's blocks refresh alone; "Compare and switch" confirms a tariff
with a fee (inline with JS, on its own page without); services connect with a
fee, clash, disconnect with the labelled button; paid subscriptions are cancelled.
Elements are found by id, name, href or form action, never by visible text
(the UI is translated); names checked on the page are the test data's own.
"""
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.models import Account, Allowance, LedgerEntry, Subscription
from tests import factories
from tests.e2e.test_sms_login_journey import Document, money_shown, sign_in, url_path_is

MSISDN = "+79161234567"
BALANCE = 500_000  # kopecks
SWITCH_FEE = 15_000
CONNECTION_FEE = 5_000

CURRENT = re.compile(r"(^|\s)current(\s|$)")  # the tariff card of the line's tariff

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@dataclass
class Portal:
    """Ids of what the customer sees; the objects themselves stay in their session."""

    account_id: int
    current_tariff: int
    fee_tariff: int  # a switching fee
    free_tariff: int  # switching is free
    fee_tariff_name: str
    turbo: int  # connection fee; clashes with lite
    turbo_name: str
    lite: int
    music: int  # a paid content subscription
    music_name: str


@pytest.fixture
def portal(live_server) -> Portal:
    with live_server.app_context() as session:
        current = factories.make_tariff(session, name="Basic 300", monthly_fee=50_000, minutes=300, sms=100,
                                        data_mb=10_240)
        plus = factories.make_tariff(session, name="Plus 800", monthly_fee=80_000, switch_fee=SWITCH_FEE,
                                     minutes=800, sms=300, data_mb=30_720)
        maximum = factories.make_tariff(session, name="Max Unlimited", monthly_fee=120_000, minutes=2000, sms=1000,
                                        unlimited_data=True)
        account = factories.make_line(session, MSISDN, tariff=current, balance=BALANCE)
        factories.make_login(session, account)
        factories.make_allowance(session, account, minutes_total=300, minutes_left=120)

        factories.make_service(session, name="Who Called", category="calls", monthly_fee=0)
        turbo = factories.make_service(session, name="Turbo Internet", category="internet",
                                       connection_fee=CONNECTION_FEE, monthly_fee=20_000)
        lite = factories.make_service(session, name="Lite Internet", category="internet", monthly_fee=5_000)
        turbo.conflicts.append(lite)
        factories.make_service(session, name="Roaming Europe", category="roaming", monthly_fee=9_900)
        music = factories.make_service(session, name="Music Box", category="subscription", monthly_fee=19_900)
        session.commit()
        return Portal(account_id=account.id, current_tariff=current.id, fee_tariff=plus.id, free_tariff=maximum.id,
                      fee_tariff_name=plus.name, turbo=turbo.id, turbo_name=turbo.name,
                      lite=lite.id, music=music.id, music_name=music.name)


# ---- the database ----------------------------------------------------------------

def tariff_fees(live_server, account_id: int) -> list[int]:
    with live_server.app_context() as session:
        return list(session.scalars(select(LedgerEntry.amount).where(
            LedgerEntry.account_id == account_id, LedgerEntry.kind == "tariff_fee")))


def service_fees(live_server, account_id: int) -> list[int]:
    with live_server.app_context() as session:
        return list(session.scalars(select(LedgerEntry.amount).where(
            LedgerEntry.account_id == account_id, LedgerEntry.kind == "service_fee")))


def balance_of(live_server, account_id: int) -> int:
    with live_server.app_context() as session:
        return session.scalar(select(Account.balance).where(Account.id == account_id))


def active_subscription(live_server, account_id: int, service_id: int) -> int | None:
    with live_server.app_context() as session:
        return session.scalar(select(Subscription.id).where(
            Subscription.account_id == account_id, Subscription.service_id == service_id,
            Subscription.status == "active"))


def count_active(live_server, account_id: int, service_id: int) -> int:
    with live_server.app_context() as session:
        return session.scalar(select(func.count()).select_from(Subscription).where(
            Subscription.account_id == account_id, Subscription.service_id == service_id,
            Subscription.status == "active"))


def set_minutes_left(live_server, account_id: int, minutes: int) -> None:
    with live_server.app_context() as session:
        allowance = session.scalar(select(Allowance).where(Allowance.account_id == account_id))
        allowance.minutes_left = minutes
        session.commit()


# ---- steps --------------------------------------------------------------------------

def url_is(path: str, fragment: str = "") -> re.Pattern:
    """For expect(page).to_have_url: exactly this path and fragment, any query string."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?[^#]*)?" + re.escape(fragment) + "$")


def path_is(path: str):
    return lambda response: urlsplit(response.url).path == path


def sign_in_to_dashboard(page) -> None:
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    for block in ("summary", "allowances", "services", "subscriptions"):
        expect(page.locator(f"main section#{block}")).to_be_visible()
        # No refresh link: the block reloads itself when the tab comes back (static/portal.js).
        expect(page.locator(f"#{block}[hx-get='/?block={block}'][hx-trigger='portal:back from:body']")).to_have_count(1)
        expect(page.locator(f"#{block} a.refresh")).to_have_count(0)


def open_inline(page, js: bool, link, path: str, slot: str) -> None:
    """JS on: the link's fragment is loaded into ``slot``, the page stays; JS off: its own page opens."""
    if js:
        url_before = page.url
        document = Document(page)
        with page.expect_response(path_is(path)) as answer:
            link.click()
        assert answer.value.request.headers.get("hx-request") == "true"
        assert answer.value.status == 200
        expect(page.locator(slot)).not_to_be_empty()
        assert page.url == url_before, "the inline confirmation must not change the address"
        assert document.kept(), "with JS only the slot is filled, the page is not reloaded"
    else:
        link.click()
        expect(page).to_have_url(url_path_is(path))


def connect(page, js: bool, service_id: int) -> None:
    """From the services catalog: open the confirmation, confirm, back on the catalog."""
    row = page.locator(f"#service-{service_id}")
    open_inline(page, js, row.locator(f".action a[href='/services/{service_id}']"), f"/services/{service_id}",
                f"#slot-{service_id}")
    scope = page.locator(f"#slot-{service_id}") if js else page.locator("main")
    expect(scope.locator(f"#connect-{service_id} dl.costs")).to_be_visible()
    scope.locator(f"#connect-{service_id} form[action='/services/{service_id}'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/services/"))
    expect(page.locator("main .flash[role=status]")).to_be_visible()


def disconnect(page, js: bool, link, subscription_id: int, slot: str, back_to: str = "/services/") -> None:
    path = f"/services/subscriptions/{subscription_id}/disconnect"
    open_inline(page, js, link, path, slot)
    scope = page.locator(slot) if js else page.locator("main")
    scope.locator(f"form#disconnect-{subscription_id}[action='{path}'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is(back_to))
    expect(page.locator("main .flash[role=status]")).to_be_visible()


def open_tariff_confirmation(page, js: bool, tariff_id: int):
    """From the catalog: "Compare and switch"; returns the confirm button."""
    card = page.locator(f"#tariff-{tariff_id}")
    expect(card).not_to_have_class(CURRENT)
    open_inline(page, js, card.locator(f"a[href='/tariffs/{tariff_id}']"), f"/tariffs/{tariff_id}",
                f"#confirm-slot-{tariff_id}")
    confirm = page.locator(f"#confirm-{tariff_id}")
    if js:
        expect(page.locator(f"#confirm-slot-{tariff_id} #confirm-{tariff_id}")).to_be_visible()
    expect(confirm.locator("table.compare")).to_be_visible()
    return confirm.locator(f"form[action='/tariffs/{tariff_id}'] button[type=submit]")


def mark_blocks(page) -> None:
    page.evaluate("""() => ['summary', 'allowances', 'services', 'subscriptions']
        .forEach(id => document.getElementById(id).setAttribute('data-e2e-old', ''))""")


def refresh_allowances(page, js: bool, live_server, portal: Portal) -> None:
    """Coming back to the tab: with JS every block asks for itself alone and is replaced (the allowances show
    the new numbers); without JS a reload of the page does it."""
    meter = page.locator("#allowances meter").first
    expect(meter).to_have_attribute("value", "120")
    set_minutes_left(live_server, portal.account_id, 77)
    if not js:
        page.reload()
        expect(meter).to_have_attribute("value", "77")
        return
    url_before = page.url
    document = Document(page)
    mark_blocks(page)
    requests = []

    def seen(request):
        requests.append(request)

    page.on("request", seen)
    with page.expect_response(lambda r: r.url.endswith("/?block=allowances")):
        # What static/portal.js does when the tab is shown again after a while.
        page.evaluate("document.body.dispatchEvent(new CustomEvent('portal:back'))")
    expect(meter).to_have_attribute("value", "77")
    for block in ("summary", "services", "subscriptions"):  # each block asked for itself
        expect(page.locator(f"#{block}:not([data-e2e-old])")).to_have_count(1)
    page.remove_listener("request", seen)
    blocks = sorted(parse_qs(urlsplit(r.url).query)["block"][0] for r in requests if urlsplit(r.url).path == "/")
    assert blocks == ["allowances", "services", "subscriptions", "summary"], "only the blocks are requested"
    assert all(r.headers.get("hx-request") == "true" for r in requests)
    assert page.url == url_before, "the refresh must not change the address"
    assert document.kept()
    expect(page.locator("#allowances")).to_have_count(1)


# ---- the journeys ------------------------------------------------------------------

@JS
def test_dashboard_refresh_and_tariff_switch_with_a_fee(page_factory, live_server, portal, js):
    page = page_factory(js)
    sign_in_to_dashboard(page)
    expect(page.locator("#summary .balance")).to_have_text(money_shown(live_server, BALANCE))
    refresh_allowances(page, js, live_server, portal)

    # Tariffs: the current one is marked and offers no switch.
    page.locator("header nav a[href='/services/']").click()
    page.locator(".subnav a[href='/tariffs/']").click()
    expect(page).to_have_url(url_path_is("/tariffs/"))
    expect(page.locator(f"#tariff-{portal.current_tariff}")).to_have_class(CURRENT)
    expect(page.locator(f"#tariff-{portal.current_tariff} a[href^='/tariffs/']")).to_have_count(0)
    for tariff_id in (portal.fee_tariff, portal.free_tariff):
        expect(page.locator(f"#tariff-{tariff_id} a[href='/tariffs/{tariff_id}']")).to_have_count(1)

    confirm = open_tariff_confirmation(page, js, portal.fee_tariff)
    confirm.click()

    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("main .flash[role=status]")).to_be_visible()
    expect(page.locator("#summary dd:has(a[href='/tariffs/'])")).to_contain_text(portal.fee_tariff_name)
    expect(page.locator("#summary .balance")).to_have_text(money_shown(live_server, BALANCE - SWITCH_FEE))
    assert tariff_fees(live_server, portal.account_id) == [-SWITCH_FEE]
    assert balance_of(live_server, portal.account_id) == BALANCE - SWITCH_FEE

    # The catalog now marks the new tariff as the customer's.
    page.locator("header nav a[href='/services/']").click()
    page.locator(".subnav a[href='/tariffs/']").click()
    expect(page.locator(f"#tariff-{portal.fee_tariff}")).to_have_class(CURRENT)
    expect(page.locator(f"#tariff-{portal.current_tariff} a[href='/tariffs/{portal.current_tariff}']")) \
        .to_have_count(1)

    page.console_watch.assert_clean()


@JS
def test_a_double_confirmation_charges_the_switching_fee_once(page_factory, live_server, portal, js):
    page = page_factory(js)
    sign_in_to_dashboard(page)
    page.locator("header nav a[href='/services/']").click()
    page.locator(".subnav a[href='/tariffs/']").click()
    expect(page).to_have_url(url_path_is("/tariffs/"))
    confirm = open_tariff_confirmation(page, js, portal.fee_tariff)

    if js:
        confirm.dblclick()
        expect(page).to_have_url(url_path_is("/"))
    else:
        form = page.locator(f"#confirm-{portal.fee_tariff} form[action='/tariffs/{portal.fee_tariff}']")
        fields = {name: form.locator(f"input[name={name}]").get_attribute("value")
                  for name in ("csrf_token", "idempotency_key")}
        confirm.click()
        expect(page).to_have_url(url_path_is("/"))
        # Back: the page is fetched again (no-store) and no longer offers the switch ...
        page.go_back()
        expect(page).to_have_url(url_path_is(f"/tariffs/{portal.fee_tariff}"))
        expect(page.locator(f"#confirm-{portal.fee_tariff} [role=alert]")).to_be_visible()
        expect(form).to_have_count(0)
        # ... so the same page's form goes again the way a browser resubmits it: same key, same cookies.
        again = page.request.post(f"/tariffs/{portal.fee_tariff}", form=fields, max_redirects=0)
        assert again.status == 303, again.status
        assert urlsplit(again.headers["location"]).path == "/"
        page.goto("/")

    expect(page.locator("#summary dd:has(a[href='/tariffs/'])")).to_contain_text(portal.fee_tariff_name)
    expect(page.locator("#summary .balance")).to_have_text(money_shown(live_server, BALANCE - SWITCH_FEE))
    assert tariff_fees(live_server, portal.account_id) == [-SWITCH_FEE]
    assert balance_of(live_server, portal.account_id) == BALANCE - SWITCH_FEE
    page.console_watch.assert_clean()


@JS
def test_services_connect_clash_disconnect_and_cancel_a_subscription(page_factory, live_server, portal, js):
    page = page_factory(js)
    sign_in_to_dashboard(page)
    expect(page.locator("#services li")).to_have_count(0)

    # 1. Connect the service with a connection fee.
    page.locator("header nav a[href='/services/']").click()
    expect(page).to_have_url(url_path_is("/services/"))
    for category in ("calls", "internet", "roaming", "subscription"):
        expect(page.locator(f"main section h2#cat-{category}")).to_have_count(1)
    connect(page, js, portal.turbo)
    turbo = page.locator(f"#service-{portal.turbo}")
    expect(turbo.locator(".action .badge")).to_be_visible()
    expect(turbo.locator(f".action a[href='/services/{portal.turbo}']")).to_have_count(0)
    subscription_id = active_subscription(live_server, portal.account_id, portal.turbo)
    assert subscription_id is not None
    fees = service_fees(live_server, portal.account_id)
    assert -CONNECTION_FEE in fees, fees  # and this month's share of the monthly fee
    assert balance_of(live_server, portal.account_id) == BALANCE + sum(fees)

    # 2. The clashing one says why and offers no connect button.
    lite = page.locator(f"#service-{portal.lite}")
    expect(lite.locator(".action .hint")).to_contain_text(portal.turbo_name)
    expect(lite.locator(f"a[href='/services/{portal.lite}']")).to_have_count(0)
    page.goto(f"/services/{portal.lite}")
    expect(page.locator(f"#connect-{portal.lite} [role=alert]")).to_contain_text(portal.turbo_name)
    expect(page.locator(f"form[action='/services/{portal.lite}']")).to_have_count(0)

    # 3. The dashboard lists it.
    page.locator("header nav a[href='/']").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#services li")).to_have_count(1)
    expect(page.locator("#services li")).to_contain_text(portal.turbo_name)

    # 4. Disconnect with the labelled button; the clashing one may be connected now.
    page.locator("header nav a[href='/services/']").click()
    expect(page).to_have_url(url_path_is("/services/"))
    button = turbo.locator(f"a.button[href='/services/subscriptions/{subscription_id}/disconnect']")
    expect(button).to_have_text("Disconnect")
    disconnect(page, js, button, subscription_id, f"#slot-{portal.turbo}")
    expect(turbo.locator(".action .badge")).to_have_count(0)
    expect(turbo.locator(f".action a[href='/services/{portal.turbo}']")).to_have_count(1)
    expect(lite.locator(f".action a[href='/services/{portal.lite}']")).to_have_count(1)
    assert active_subscription(live_server, portal.account_id, portal.turbo) is None
    page.locator("header nav a[href='/']").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#services li")).to_have_count(0)

    # 5. Paid subscriptions: none yet; find one in the catalog, connect it.
    page.locator("#subscriptions a[href='/services/subscriptions']").click()
    expect(page).to_have_url(url_path_is("/services/subscriptions"))
    expect(page.locator("main li[id^=subscription-]")).to_have_count(0)
    page.locator("main a[href='/services/#cat-subscription']").click()
    expect(page).to_have_url(url_is("/services/", "#cat-subscription"))
    connect(page, js, portal.music)
    music_id = active_subscription(live_server, portal.account_id, portal.music)
    assert music_id is not None

    page.locator("main a[href='/services/subscriptions']").click()
    expect(page).to_have_url(url_path_is("/services/subscriptions"))
    row = page.locator(f"main li#subscription-{music_id}")
    expect(row).to_contain_text(portal.music_name)

    # 6. Cancel it: back on the subscriptions page, it is gone from there and from the dashboard.
    cancel = row.locator(f"a[href^='/services/subscriptions/{music_id}/disconnect']")
    disconnect(page, js, cancel, music_id, f"#slot-sub-{music_id}", back_to="/services/subscriptions")
    assert count_active(live_server, portal.account_id, portal.music) == 0
    expect(page.locator("main li[id^=subscription-]")).to_have_count(0)
    page.locator("header nav a[href='/']").click()
    expect(page.locator("#subscriptions li")).to_have_count(0)

    page.console_watch.assert_clean()


def test_a_reload_without_js_shows_fresh_numbers(page_factory, live_server, portal):
    page = page_factory(False)
    sign_in_to_dashboard(page)
    meter = page.locator("#allowances meter").first
    expect(meter).to_have_attribute("value", "120")
    set_minutes_left(live_server, portal.account_id, 77)
    document = Document(page)
    page.reload()
    expect(meter).to_have_attribute("value", "77", timeout=3_000)
    assert not document.kept(), "without JS the dashboard is loaded again"
